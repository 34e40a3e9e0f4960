package contract

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"

	"github.com/algoreg-kit/algoreg-kit/openapi"
	"github.com/algoreg-kit/algoreg-kit/rules"
)

// maxKitConfig bounds the answer of GET /__admin/config that readKit reads
// (the mock's is a few KiB; a relation-type table of thousands still fits).
const maxKitConfig = 4 << 20

// Kit is what an algoreg-kit mock says of itself at GET /__admin/config.
type Kit struct {
	// Version is the mock's algoreg-kit version (its Algoreg-Kit-Version
	// header).
	Version string
	// Rules are the rule settings and request limits the mock applies.
	Rules rules.Config
}

// Asked is the answer of ReadKit, for Config.Asked.
type Asked struct {
	// Kit is the mock's settings, nil when the target is not the kit.
	Kit *Kit
}

// ReadKit asks cfg.Target for GET /__admin/config, with cfg's credentials
// and a fresh random nonce, and returns what the target applies when it is
// an algoreg-kit mock: a 200 with the Algoreg-Kit-Version header whose body
// names algoreg-kit, repeats the nonce, and holds valid rules. Any other
// answer (a 404 of a server that is not the kit, a stub that cannot repeat
// the nonce) is a nil Kit and no error: the target is not the kit. The error
// says why the target could not be asked at all (a bad Config, no
// connection, no token for the credentials).
func ReadKit(ctx context.Context, cfg Config) (*Kit, error) {
	r, err := newRunner(ctx, cfg)
	if err != nil {
		return nil, err
	}
	return r.readKit(ctx)
}

// kit is Config.Asked's Kit when the caller asked, else readKit's answer.
func (r *runner) kit(ctx context.Context) (*Kit, error) {
	if r.cfg.Asked != nil {
		return r.cfg.Asked.Kit, nil
	}
	return r.readKit(ctx)
}

// readKit is ReadKit with the runner's credentials. The request is not
// one of the run's: it is not counted, recorded or validated (a vendor's
// 404 to a path it does not serve is no failure of the contract).
func (r *runner) readKit(ctx context.Context) (*Kit, error) {
	nonce := rand.Text()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, r.cfg.Target+openapi.ConfigPath+"?nonce="+url.QueryEscape(nonce), nil)
	if err != nil {
		return nil, fmt.Errorf("ask %s for its settings: %w", r.cfg.Target, err)
	}
	auth, err := r.client.authorization(ctx, r.client.primary, "setup")
	if err != nil {
		return nil, fmt.Errorf("ask %s for its settings: %w", r.cfg.Target, err)
	}
	req.Header.Set("Authorization", auth)
	req.Header.Set("Accept", "application/json")
	resp, err := r.cfg.HTTPClient.Do(req)
	if err != nil {
		return nil, fmt.Errorf("ask %s for its settings: %w", r.cfg.Target, err)
	}
	defer resp.Body.Close()
	version := resp.Header.Get(openapi.KitVersionHeader)
	if resp.StatusCode != http.StatusOK || version == "" {
		return nil, nil
	}
	raw, err := io.ReadAll(io.LimitReader(resp.Body, maxKitConfig))
	if err != nil {
		return nil, fmt.Errorf("ask %s for its settings: read the answer: %w", r.cfg.Target, err)
	}
	var body struct {
		Kit struct {
			Name    string `json:"name"`
			Version string `json:"version"`
			Nonce   string `json:"nonce"`
		} `json:"kit"`
		Rules *rules.Config `json:"rules"`
	}
	if json.Unmarshal(raw, &body) != nil || body.Kit.Name != openapi.KitName || body.Kit.Nonce != nonce ||
		body.Kit.Version != version || body.Rules == nil || body.Rules.Validate() != nil {
		return nil, nil
	}
	return &Kit{Version: version, Rules: *body.Rules}, nil
}
