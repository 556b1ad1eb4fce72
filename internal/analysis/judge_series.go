package analysis

import (
	"cmp"
	"errors"
	"fmt"
	"hash/fnv"
	"slices"
	"strconv"

	"github.com/sluice-dev/sluice/api/v1alpha1"
)

// Names of the judge's queries and of the versions, as status records them
// in JudgeStatus.Series.
const (
	JudgeQueryRequests     = "requests"
	JudgeQueryErrors       = "errors"
	JudgeQuerySlowRequests = "slowRequests"
	VersionCanary          = "canary"
	VersionPrimary         = "primary"
)

// Series is one reading of a query: the value of each series it returned,
// keyed by the series' label set. A series missing from a reading is a gap
// (a failed scrape, a pod gone), never a reset.
type Series map[string]int64

// JudgeSample is one reading of the judge's queries for both versions, taken
// at the same time: per version, per query name (JudgeQueryRequests, ...),
// its series.
type JudgeSample struct {
	Canary  map[string]Series
	Primary map[string]Series
}

// ErrTooManySeries is returned for a judge query that returns more series
// than the judge remembers (v1alpha1.MaxJudgeSeries).
var ErrTooManySeries = errors.New("too many series")

// EvaluateJudgeSample adds one reading of the judge's queries to its
// evidence, series by series, and reports whether the reading brought data:
// new requests on both versions since the last reading. The first reading
// (prev nil) is a baseline and brings none.
//
// Why per series: a counter is cumulative per series (per pod), and a pod
// that restarts resets its own series only; a query that matches nothing for
// a moment (Prometheus restarting, a scrape failing) is a gap. Handled on a
// sum, the first looks like a reset of everything and the second makes the
// whole history count again after it. Here a series that dropped restarted
// from zero (its new value is what happened since), a series that is
// missing keeps its last value until it comes back, and a series seen for
// the first time after the baseline started since the last reading.
func EvaluateJudgeSample(spec v1alpha1.Judge, prev *v1alpha1.JudgeStatus, s JudgeSample) (v1alpha1.JudgeStatus, bool, error) {
	if prev != nil && prev.Decision == v1alpha1.JudgeRollback {
		return *prev.DeepCopy(), false, nil
	}
	queries := []string{JudgeQueryRequests, JudgeQueryErrors}
	if spec.SlowRequests != "" {
		queries = append(queries, JudgeQuerySlowRequests)
	}
	var memory []v1alpha1.JudgeSeries
	if prev != nil {
		memory = prev.Series
	}
	baseline := prev == nil
	var next []v1alpha1.JudgeSeries
	inc := map[string]map[string]int64{VersionCanary: {}, VersionPrimary: {}}
	for _, v := range []struct {
		name   string
		series map[string]Series
	}{{VersionCanary, s.Canary}, {VersionPrimary, s.Primary}} {
		for _, q := range queries {
			n, kept, err := seriesIncrement(memory, q, v.name, v.series[q], baseline)
			if err != nil {
				return v1alpha1.JudgeStatus{}, false, fmt.Errorf("judge query %s of the %s: %w", q, v.name, err)
			}
			inc[v.name][q] = n
			next = append(next, kept...)
		}
	}
	reading := JudgeReading{}
	if !baseline {
		reading = JudgeReading{Canary: cumulative(prev, VersionCanary, inc[VersionCanary]),
			Primary: cumulative(prev, VersionPrimary, inc[VersionPrimary])}
	}
	out, err := EvaluateJudge(spec, prev, reading)
	if err != nil {
		return v1alpha1.JudgeStatus{}, false, err
	}
	out.Series = next
	data := !baseline && inc[VersionCanary][JudgeQueryRequests] > 0 && inc[VersionPrimary][JudgeQueryRequests] > 0
	return out, data, nil
}

// seriesIncrement is what one query of one version counted since the last
// reading, summed over its series, and the series to remember: those read
// now, and those missing from this reading (a gap) while there is room.
func seriesIncrement(memory []v1alpha1.JudgeSeries, query, version string, cur Series, baseline bool) (int64, []v1alpha1.JudgeSeries, error) {
	if len(cur) > v1alpha1.MaxJudgeSeries {
		return 0, nil, fmt.Errorf("%w: %d series, more than %d: aggregate it, for example with sum by (pod)",
			ErrTooManySeries, len(cur), v1alpha1.MaxJudgeSeries)
	}
	last := map[string]int64{}
	for _, m := range memory {
		if m.Query == query && m.Version == version {
			last[m.Key] = m.Value
		}
	}
	var sum int64
	var kept []v1alpha1.JudgeSeries
	seen := map[string]bool{}
	for labels, v := range cur {
		key := seriesKey(labels)
		seen[key] = true
		kept = append(kept, v1alpha1.JudgeSeries{Query: query, Version: version, Key: key, Value: v})
		old, known := last[key]
		switch {
		case baseline:
		case !known:
			sum = saturatingAdd(sum, v) // started since the last reading
		case v >= old:
			sum = saturatingAdd(sum, v-old)
		default:
			sum = saturatingAdd(sum, v) // reset: restarted from zero
		}
	}
	var gaps []v1alpha1.JudgeSeries
	for key, v := range last {
		if !seen[key] {
			gaps = append(gaps, v1alpha1.JudgeSeries{Query: query, Version: version, Key: key, Value: v})
		}
	}
	slices.SortFunc(gaps, func(a, b v1alpha1.JudgeSeries) int { return cmp.Compare(a.Key, b.Key) })
	kept = append(kept, gaps[:min(len(gaps), v1alpha1.MaxJudgeSeries-len(kept))]...)
	slices.SortFunc(kept, func(a, b v1alpha1.JudgeSeries) int { return cmp.Compare(a.Key, b.Key) })
	return sum, kept, nil
}

// cumulative is the version's running total after adding inc: the judge's
// sequential test reads cumulative counters, and these never reset.
func cumulative(prev *v1alpha1.JudgeStatus, version string, inc map[string]int64) JudgeCounters {
	var base JudgeCounters
	for _, m := range prev.Metrics {
		last := m.LastCanary
		if version == VersionPrimary {
			last = m.LastPrimary
		}
		if last == nil {
			continue
		}
		base.Requests = last.Requests
		switch m.Name {
		case JudgeCounterErrors:
			base.Errors = last.Events
		case JudgeCounterSlowRequests:
			base.SlowRequests = last.Events
		}
	}
	return JudgeCounters{
		Requests:     saturatingAdd(base.Requests, inc[JudgeQueryRequests]),
		Errors:       saturatingAdd(base.Errors, inc[JudgeQueryErrors]),
		SlowRequests: saturatingAdd(base.SlowRequests, inc[JudgeQuerySlowRequests]),
	}
}

// seriesKey is a short, stable name for a label set, so that status stays
// small however long the labels are.
func seriesKey(labels string) string {
	h := fnv.New64a()
	_, _ = h.Write([]byte(labels))
	return strconv.FormatUint(h.Sum64(), 36)
}

func saturatingAdd(a, b int64) int64 {
	if b > 0 && a > (1<<63-1)-b {
		return 1<<63 - 1
	}
	return a + b
}
