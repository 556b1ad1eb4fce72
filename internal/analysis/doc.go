// Package analysis turns metric queries into check results.
//
// A Provider answers one query with one number. Its errors fall in two
// classes that callers tell apart with errors.Is: ErrNoData (the query matched
// nothing, or its value is not a number: hold, never promote, never count a
// failure) and ErrProvider (the provider could not answer: unreachable, timed
// out, a bad query or a result that is not one number: hold, and pause after
// the analysis' errorLimit). Evaluate turns a value, or such an error, into a
// v1alpha1.MetricResult against the metric's threshold range.
//
// Queries are Go templates rendered by RenderQuery with the fields of
// QueryVars. Providers are built from their spec by a Registry, a plain map
// from provider type to Factory that cmd/main.go fills; an unknown type is an
// error, never a silent default.
//
// The statistical judges also live in this package (judge*.go) and read the
// cumulative counters they compare through the same Provider interface.
package analysis
