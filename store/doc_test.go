package store_test

import (
	"errors"
	"fmt"

	"github.com/algoreg-kit/algoreg-kit/store"
)

// A database failure wraps ErrUnavailable, which the mock answers 503.
func Example_unavailable() {
	err := fmt.Errorf("save customers: %w: connection refused", store.ErrUnavailable)
	fmt.Println(errors.Is(err, store.ErrUnavailable))
	// Output: true
}
