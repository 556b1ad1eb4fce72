package sandbox

import (
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"
)

// WriteSummary writes a table of results: what each release was expected
// to do, what it did and why.
func WriteSummary(w io.Writer, results []Result) error {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	_, _ = fmt.Fprintln(tw, "RELEASE\tEXPECTED\tGOT\tTOOK\tWHAT HAPPENED")
	for _, r := range results {
		mark := "ok"
		if !r.OK() {
			mark = "UNEXPECTED"
		}
		_, _ = fmt.Fprintf(tw, "%s\t%s\t%s %s\t%s\t%s\n", r.Release, r.Want, r.Got, mark, r.Took.Round(time.Second), Explain(r))
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	for _, r := range results {
		if err := r.Check(); err != nil {
			_, _ = fmt.Fprintf(w, "%s went wrong:\n  %s\n", r.Release, strings.ReplaceAll(err.Error(), "\n", "\n  "))
		}
	}
	return nil
}

// Explain says in one line what happened to a release.
func Explain(r Result) string {
	var parts []string
	switch r.Kind {
	case KindCanary:
		if len(r.Weights) > 0 {
			parts = append(parts, "weights "+joinInts(r.Weights, "→"))
		}
	case KindBlueGreen:
		if len(r.Colors) > 0 {
			parts = append(parts, "live "+strings.Join(r.Colors, "→"))
		}
	}
	if r.Got == RolledBack {
		parts = append(parts, "reason: "+r.Reason)
		if len(r.FailedMetrics) > 0 {
			parts = append(parts, "failed: "+strings.Join(r.FailedMetrics, ", "))
		}
	}
	if r.Judge != "" {
		parts = append(parts, "judge: "+string(r.Judge))
	}
	if r.Served != nil {
		parts = append(parts, servedText(r.Served))
	}
	return strings.Join(parts, "; ")
}

func joinInts(v []int32, sep string) string {
	s := make([]string, len(v))
	for i, n := range v {
		s[i] = fmt.Sprint(n)
	}
	return strings.Join(s, sep)
}
