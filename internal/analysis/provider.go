package analysis

import (
	"context"
	"errors"
	"fmt"
)

// Provider answers a query with a single number. Implementations are safe for
// concurrent use.
//
// An error from Query is ErrNoData when the query matched nothing or returned
// a value that is not a number (NaN, ±Inf), and ErrProvider when the provider
// could not answer it; callers branch with errors.Is.
type Provider interface {
	// Query runs query, already rendered from its template, at the
	// provider's current time and returns its value.
	Query(ctx context.Context, query string) (float64, error)
}

// SeriesProvider is a Provider that can also answer with every series a
// query returns, keyed by the series' label set ("" for a scalar). The judge
// reads its counters through it, to handle resets and gaps per series. A
// query that matches nothing returns an empty map and no error.
type SeriesProvider interface {
	Provider
	// QuerySeries runs query at the provider's current time and returns
	// the value of each series.
	QuerySeries(ctx context.Context, query string) (map[string]float64, error)
}

// Credentials authenticate a provider's client. They come from the Secret a
// MetricProvider names; the zero value means no authentication and the
// system's certificate authorities.
type Credentials struct {
	// Username and Password are sent as HTTP basic authentication.
	Username string
	Password string

	// BearerToken is sent as an "Authorization: Bearer" header. It excludes
	// Username and Password.
	BearerToken string

	// CA is a PEM bundle of certificate authorities that replaces the
	// system's for verifying the provider's certificate.
	CA []byte

	// ClientCert and ClientKey are a PEM certificate and key presented to the
	// provider (mutual TLS). One needs the other.
	ClientCert []byte
	ClientKey  []byte
}

// ErrNoData classifies errors meaning that a query ran but gave no number to
// judge: no series matched, or the value was NaN or infinite. A release holds
// on it: it never promotes and never counts a failure.
var ErrNoData = errors.New("no data")

// ErrProvider classifies errors meaning that a query could not be run: the
// provider was unreachable, timed out or refused the query, the query
// template was invalid, or the result was not one number. A release holds on
// it and pauses after errorLimit checks in a row; it never rolls back for it.
var ErrProvider = errors.New("provider error")

// NoDataf returns an error that is ErrNoData, with a reason formatted as by
// fmt.Errorf.
func NoDataf(format string, args ...any) error {
	return &classifiedError{class: ErrNoData, err: fmt.Errorf(format, args...)}
}

// ProviderErrorf returns an error that is ErrProvider, with a reason formatted
// as by fmt.Errorf; a cause wrapped with %w stays reachable by errors.Is and
// errors.As.
func ProviderErrorf(format string, args ...any) error {
	return &classifiedError{class: ErrProvider, err: fmt.Errorf(format, args...)}
}

// classifiedError joins a class sentinel to the error that explains it.
type classifiedError struct {
	class error
	err   error
}

func (e *classifiedError) Error() string {
	return e.class.Error() + ": " + e.err.Error()
}

func (e *classifiedError) Unwrap() []error {
	return []error{e.class, e.err}
}
