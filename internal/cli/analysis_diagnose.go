package cli

import (
	"context"
	"errors"
	"fmt"
	"math"
	"regexp"
	"strings"

	"github.com/sluice-dev/sluice/internal/analysis"
)

// selector matches a PromQL vector selector with matchers: name{...}.
var selector = regexp.MustCompile(`([a-zA-Z_:][a-zA-Z0-9_:]*)\s*\{([^}]*)\}`)

// matcher matches one label matcher: label op "value".
var matcher = regexp.MustCompile(`([a-zA-Z_][a-zA-Z0-9_]*)\s*(=~|!~|!=|=)\s*"((?:[^"\\]|\\.)*)"`)

// diagnose finds the likely cause of a query without data: a metric no
// series carries (a typo, or nothing exports it), a label matcher no series
// satisfies (often the workload label), or series that exist but whose
// counters never moved (rate() of a flat counter, 0/0).
func diagnose(ctx context.Context, p analysis.Provider, query string, value float64) string {
	for _, m := range selector.FindAllStringSubmatch(query, -1) {
		name, matchers := m[1], matcher.FindAllString(m[2], -1)
		if !exists(ctx, p, name) {
			return fmt.Sprintf("no series named %s at all: a typo in the metric name, or nothing exports it to this Prometheus", name)
		}
		if exists(ctx, p, name+"{"+strings.Join(matchers, ",")+"}") {
			continue
		}
		var culprits []string
		for i, culprit := range matchers {
			rest := append(append([]string{}, matchers[:i]...), matchers[i+1:]...)
			if exists(ctx, p, name+"{"+strings.Join(rest, ",")+"}") {
				culprits = append(culprits, culprit)
			}
		}
		switch len(culprits) {
		case 0:
			return fmt.Sprintf("no series of %s match {%s}", name, strings.Join(matchers, ","))
		case 1:
			return fmt.Sprintf("no series of %s with %s (there are some without it): check that label, "+
				"often the workload's name or namespace", name, culprits[0])
		}
		return fmt.Sprintf("no series of %s with %s together (each alone has some): a label value that "+
			"never occurred has no series, so a counter that never incremented (no errors yet, say) looks like this",
			name, strings.Join(culprits, " and "))
	}
	if math.IsNaN(value) {
		return "the series exist but the result is NaN: their counters never incremented in the window " +
			"(no traffic to this version yet: a rate of 0 divided by 0)"
	}
	return "the series exist but the query returned nothing: a counter never incremented, or a filter " +
		"(> or a comparison) dropped every sample"
}

// exists reports whether a selector matches at least one series now.
func exists(ctx context.Context, p analysis.Provider, sel string) bool {
	v, err := p.Query(ctx, "count("+sel+")")
	return err == nil && v > 0
}

// providerCause says in a few words why the provider could not answer.
func providerCause(err error) string {
	msg := err.Error()
	switch {
	case strings.Contains(msg, "refused by") && strings.Contains(msg, "as invalid"):
		return "the provider refused the query (a PromQL syntax error?): " + msg
	case errors.Is(err, analysis.ErrProvider):
		return "provider unreachable or failing: " + msg
	}
	return msg
}
