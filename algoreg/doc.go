// Package algoreg is a client for the Algoreg API's Save customers endpoint
// (POST /api/v1/customers/save), for integrators' Go code and for the
// toolkit's own commands. It sends the typed model of package openapi and
// decodes the answer into it.
//
// A Client authenticates with the OAuth2 password grant (POST /api/v1/token,
// the token kept until shortly before it expires and renewed once on a 401),
// with HTTP Basic, or with a bearer token given as is. It retries 429 and 5xx
// answers and connection errors, honouring Retry-After (seconds or an HTTP
// date) and otherwise waiting a capped exponential backoff with jitter, for a
// bounded number of attempts and a bounded time; it can bound its own rate;
// every wait ends when the context does. Resending a save after a connection
// error or a 5xx is safe although it is a POST: a save is an upsert by
// external_id, so a batch that an attempt applied before its answer was lost
// is updated by the retry, never duplicated (its retry's answer does not list
// those customers in added; ContextWithOnRetry tells a caller which requests
// were retried).
//
// An answer it cannot use is an *Error: the request, the status, the
// problem-details body, and a hint that says what to do ("check the user and
// password", "the base URL must not include /api/v1 …").
//
//	c, err := algoreg.New("https://api.algoreg.com", algoreg.WithPasswordGrant(user, password))
//	if err != nil { … }
//	resp, err := c.Save(ctx, &openapi.SaveCustomersRequest{Customers: customers})
//
// The pieces other senders share are exported too: Authorizer, with the
// TokenSource that does the renewal, BasicAuth and BearerToken (the contract
// suite uses them for its hand-made requests), and DecodeSaveResponse.
package algoreg
