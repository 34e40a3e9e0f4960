package sqlite

import "time"

// checkpointDelay is how long the checkpointer lets commits gather after
// the first one it hears of before it copies them into the file.
const checkpointDelay = 10 * time.Millisecond

// checkpointer copies the WAL's frames into the database file in the
// background, on a connection of its own, after the commits. SQLite's
// writer still checkpoints itself, in the commit that takes the WAL past
// 1,000 pages, so that the WAL restarts from its beginning (only a
// checkpoint that finds nothing left to copy lets the next write do that);
// but it then finds most frames copied already, and copies the few written
// since the checkpointer's last pass. A commit is in the WAL (synced as
// Options.Sync says) before Write returns, whoever copies it later.
type checkpointer struct {
	c    *conn
	wake chan struct{} // one pending wake-up: commits happened
	stop chan struct{} // closed by close
	done chan struct{} // closed when run returns
}

func newCheckpointer(c *conn) *checkpointer {
	k := &checkpointer{c: c, wake: make(chan struct{}, 1), stop: make(chan struct{}), done: make(chan struct{})}
	go k.run()
	return k
}

// committed tells the checkpointer of a commit, without waiting.
func (k *checkpointer) committed() {
	select {
	case k.wake <- struct{}{}:
	default:
	}
}

// run checkpoints after commits until close. An error is left to the next
// pass (and to the writer's own checkpoints).
func (k *checkpointer) run() {
	defer close(k.done)
	t := time.NewTimer(0)
	<-t.C
	for {
		select {
		case <-k.wake:
		case <-k.stop:
			return
		}
		t.Reset(checkpointDelay)
		select {
		case <-t.C:
		case <-k.stop:
			return
		}
		k.c.exec("PRAGMA wal_checkpoint(PASSIVE)") // it waits for no one
	}
}

// close stops the checkpointer and closes its connection.
func (k *checkpointer) close() error {
	close(k.stop)
	<-k.done
	return k.c.close()
}
