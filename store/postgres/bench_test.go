package postgres_test

import (
	"context"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/algoreg-kit/algoreg-kit/internal/pgtest"
	"github.com/algoreg-kit/algoreg-kit/store"
	"github.com/algoreg-kit/algoreg-kit/store/storetest"
	"github.com/jackc/pgx/v5"
)

// BenchmarkUpdate is storetest.BenchmarkUpdate on a fresh database of the
// server in ALGOREG_TEST_POSTGRES, with the CPU time of the server's
// processes that serve it when the server runs on this machine (README.md
// has the figures and the commands).
//
//	go test -run '^$' -bench . -benchtime 2s ./store/postgres
func BenchmarkUpdate(b *testing.B) {
	var admin *pgx.Conn
	urls := map[store.Store]string{}
	open := func(tb testing.TB) store.Store {
		url := pgtest.NewDatabase(tb)
		s := mustOpen(tb, url)
		urls[s] = url
		return s
	}
	serverCPU := func(tb testing.TB, s store.Store) time.Duration {
		if admin == nil {
			var err error
			if admin, err = pgx.Connect(context.Background(), pgtest.URL(tb)); err != nil {
				tb.Fatal(err)
			}
		}
		return backendsCPU(tb, admin, urls[s])
	}
	storetest.BenchmarkUpdate(b, open, serverCPU)
	if admin != nil {
		admin.Close(context.Background())
	}
}

// backendsCPU returns the CPU time the server processes connected to the
// database of url have used, read from /proc (0 when the server is on
// another machine or /proc cannot be read).
func backendsCPU(tb testing.TB, admin *pgx.Conn, url string) time.Duration {
	name := url[strings.LastIndex(url, "/")+1:]
	name, _, _ = strings.Cut(name, "?")
	rows, err := admin.Query(context.Background(), `SELECT pid FROM pg_stat_activity WHERE datname = $1`, name)
	if err != nil {
		tb.Fatal(err)
	}
	pids, err := pgx.CollectRows(rows, pgx.RowTo[int32])
	if err != nil {
		tb.Fatal(err)
	}
	var ticks int64
	for _, pid := range pids {
		stat, err := os.ReadFile("/proc/" + strconv.Itoa(int(pid)) + "/stat")
		if err != nil {
			return 0
		}
		// the fields after the command (in parentheses): utime and stime are the 12th and 13th
		fields := strings.Fields(string(stat[strings.LastIndexByte(string(stat), ')')+1:]))
		for _, f := range fields[11:13] {
			n, _ := strconv.ParseInt(f, 10, 64)
			ticks += n
		}
	}
	return time.Duration(ticks) * (time.Second / 100) // USER_HZ is 100 on Linux
}
