package contract

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"

	"github.com/algoreg-kit/algoreg-kit/openapi"
	"github.com/algoreg-kit/algoreg-kit/rules"
)

// Kit is what an algoreg-kit mock says of itself at GET /__admin/config.
type Kit struct {
	// Version is the mock's algoreg-kit version (its Algoreg-Kit-Version
	// header).
	Version string
	// Rules are the rule settings and request limits the mock applies.
	Rules rules.Config
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
	nonce := rand.Text()
	x := r.client.do(ctx, request{method: http.MethodGet, path: openapi.ConfigPath + "?nonce=" + url.QueryEscape(nonce)}, "setup")
	if x.Err != nil {
		return nil, fmt.Errorf("ask %s for its settings: %w", r.cfg.Target, x.Err)
	}
	version := x.Header.Get(openapi.KitVersionHeader)
	if x.Status != http.StatusOK || version == "" {
		return nil, nil
	}
	var body struct {
		Kit struct {
			Name    string `json:"name"`
			Version string `json:"version"`
			Nonce   string `json:"nonce"`
		} `json:"kit"`
		Rules *rules.Config `json:"rules"`
	}
	if json.Unmarshal(x.Body, &body) != nil || body.Kit.Name != openapi.KitName || body.Kit.Nonce != nonce ||
		body.Kit.Version != version || body.Rules == nil || body.Rules.Validate() != nil {
		return nil, nil
	}
	return &Kit{Version: version, Rules: *body.Rules}, nil
}
