package scale

import (
	"fmt"
	"io"
	"math"
	"slices"
	"strings"
	"time"
)

// quantile is the q-quantile of ds (nearest rank), 0 when empty.
func quantile(ds []time.Duration, q float64) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	s := slices.Clone(ds)
	slices.Sort(s)
	i := int(math.Ceil(q*float64(len(s)))) - 1
	return s[min(max(i, 0), len(s)-1)]
}

func ms(f float64) string {
	if math.IsNaN(f) {
		return "–"
	}
	return fmt.Sprintf("%.0f ms", f*1000)
}

func dur(d time.Duration) string {
	if d.Abs() >= 10*time.Second {
		return fmt.Sprintf("%.1f s", d.Seconds())
	}
	return fmt.Sprintf("%d ms", d.Milliseconds())
}

func spread(ds []time.Duration) string {
	if len(ds) == 0 {
		return "–"
	}
	return fmt.Sprintf("p50 %s, p99 %s, max %s (%d)", dur(quantile(ds, 0.5)), dur(quantile(ds, 0.99)), dur(slices.Max(ds)), len(ds))
}

// Table writes the results as a Markdown table, one column per run.
func Table(w io.Writer, results []Result) {
	rows := []struct {
		label string
		cell  func(Result) string
	}{
		{"Canaries brought to Ready", func(r Result) string { return fmt.Sprintf("%s; writes %s", dur(r.Onboard), r.OnboardWrites) }},
		{"at rest: reconciles, writes", func(r Result) string {
			return fmt.Sprintf("%.0f reconciles in %s; writes %s", r.RestReconciles, dur(r.Rest), r.RestWrites)
		}},
		{"no-op reconciles (an annotation poked)", func(r Result) string {
			return fmt.Sprintf("%.0f reconciles; writes %s; p50 %s, p99 %s", r.Noops, r.NoopWrites, ms(r.NoopP50), ms(r.NoopP99))
		}},
		{"operator restart", func(r Result) string {
			return fmt.Sprintf("%.0f reconciles in %.1f s; writes %s; p50 %s, p99 %s", r.RestartRecs, r.RestartSeconds,
				r.RestartWrites, ms(r.RestartP50), ms(r.RestartP99))
		}},
		{"wave: time to promote all", func(r Result) string {
			return fmt.Sprintf("%d Canaries in %.1f s (2 pauses of %s); reconcile p50 %s, p99 %s", r.Wave, r.WaveSeconds,
				r.Pause, ms(r.WaveP50), ms(r.WaveP99))
		}},
		{"wave: step start after its pause's end", func(r Result) string { return spread(r.Lateness) }},
		{"abort → weight 0, idle", func(r Result) string { return spread(r.AbortIdle) }},
		{"abort → weight 0, during the wave", func(r Result) string { return spread(r.AbortWave) }},
		{"wave: operator API requests", func(r Result) string {
			return fmt.Sprintf("%.0f in %.0f reconciles (%.1f per reconcile): %s; latency p50 %s, p99 %s", r.WaveRequests.Total(),
				r.WaveReconciles, r.WaveRequests.Total()/max(r.WaveReconciles, 1), r.WaveRequests, ms(r.WaveRTT50), ms(r.WaveRTT99))
		}},
		{"onboarding, per Canary", func(r Result) string {
			n := float64(r.N)
			return fmt.Sprintf("writes %.1f (%s); events %.1f (%s); operator requests %.1f (%s)",
				r.OnboardWrites.Total()/n, per(r.OnboardWrites, n), r.OnboardEvents.Total()/n, per(r.OnboardEvents.ByReason, n),
				r.OnboardRequests.Total()/n, per(r.OnboardRequests, n))
		}},
		{"wave: requests per release", func(r Result) string {
			n := float64(r.WaveReleases)
			return fmt.Sprintf("requests per release: %.1f, of which events %.1f (%d releases, %d of them aborted); "+
				"writes %.1f (%s); events by reason: %s; series repeats %.0f",
				r.WaveRequests.Total()/max(n, 1), r.WaveEvents.Total()/max(n, 1), r.WaveReleases, r.WaveReleases-r.Wave,
				r.WaveWrites.Total()/max(n, 1), per(r.WaveWrites, n), per(r.WaveEvents.ByReason, n), r.WaveEvents.Repeats)
		}},
		{"wave: CPU seconds by process", func(r Result) string { return r.WaveCPU.String() }},
		{"peak RSS", func(r Result) string { return fmt.Sprintf("%.0f MiB", r.PeakMiB) }},
		{"load average (1 min): run; wave", func(r Result) string { return r.Load + "; " + r.WaveLoad }},
	}
	head := []string{"phase"}
	for _, r := range results {
		head = append(head, fmt.Sprintf("N = %d (%d workers)", r.N, r.Workers))
	}
	_, _ = fmt.Fprintf(w, "| %s |\n|%s\n", strings.Join(head, " | "), strings.Repeat("---|", len(head)))
	for _, row := range rows {
		cells := []string{row.label}
		for _, r := range results {
			cells = append(cells, row.cell(r))
		}
		_, _ = fmt.Fprintf(w, "| %s |\n", strings.Join(cells, " | "))
	}
}
