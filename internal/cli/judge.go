package cli

import (
	"fmt"
	"strings"
	"text/tabwriter"

	"github.com/sluice-dev/sluice/api/v1alpha1"
)

// The judge's evidence, as the views show it. Status keeps, per counter
// (errors, slowRequests), what each version served and the e-values for a
// regression and for "within tolerance"; the judge decides when one reaches
// the threshold, 1/alpha per counter.

// judgeEvidence writes one line per counter of the judge's status: the
// evidence for a rollback (and for a promotion, when the spec promotes on
// evidence) against the threshold, then each version's failures among its
// requests.
func judgeEvidence(b *strings.Builder, indent string, spec *v1alpha1.Judge, j *v1alpha1.JudgeStatus) {
	tw := tabwriter.NewWriter(b, 0, 4, 2, ' ', 0)
	for _, m := range j.Metrics {
		_, _ = fmt.Fprintf(tw, "%s%s\trollback e=%s of %s\t", indent, m.Name, evidence(m.RollbackEvidence), evidence(j.Threshold))
		if promotesOnEvidence(spec) {
			_, _ = fmt.Fprintf(tw, "promote e=%s of %s\t", evidence(m.PromotionEvidence), evidence(j.Threshold))
		}
		_, _ = fmt.Fprintf(tw, "canary %s\tprimary %s\t%d observations\n", counts(m.Canary), counts(m.Primary), m.Observations)
	}
	_ = tw.Flush()
}

// judgeBrief is the judge in a few words for a log line: its decision and
// the strongest evidence for a rollback against the threshold ("judge
// continue e=1.3/20"), and the weakest for a promotion when the spec
// promotes on evidence (every counter must reach it).
func judgeBrief(spec *v1alpha1.Judge, j *v1alpha1.JudgeStatus) string {
	s := "judge " + strings.ToLower(string(j.Decision))
	if len(j.Metrics) == 0 {
		return s
	}
	rollback, promote := j.Metrics[0].RollbackEvidence, j.Metrics[0].PromotionEvidence
	for _, m := range j.Metrics[1:] {
		rollback, promote = max(rollback, m.RollbackEvidence), min(promote, m.PromotionEvidence)
	}
	s += fmt.Sprintf(" e=%s/%s", evidence(rollback), evidence(j.Threshold))
	if promotesOnEvidence(spec) {
		s += fmt.Sprintf(" promote-e=%s/%s", evidence(promote), evidence(j.Threshold))
	}
	return s
}

// promotesOnEvidence reports whether the judge may promote early, which
// makes the evidence for a promotion worth showing.
func promotesOnEvidence(spec *v1alpha1.Judge) bool {
	return spec != nil && spec.PromoteOnEvidence
}

// evidence prints an e-value or threshold briefly: 0.42, 3.1, 38, 1.2e+08.
func evidence(x float64) string {
	switch {
	case x >= 1e6:
		return fmt.Sprintf("%.2g", x)
	case x >= 10:
		return fmt.Sprintf("%.0f", x)
	}
	return fmt.Sprintf("%.2g", x)
}

// counts prints failures among requests and their rate: "12/4000 (0.3%)", "40/80 (50%)".
func counts(s v1alpha1.CounterSample) string {
	if s.Requests == 0 {
		return fmt.Sprintf("%d/0", s.Events)
	}
	pct := 100 * float64(s.Events) / float64(s.Requests)
	if pct >= 10 {
		return fmt.Sprintf("%d/%d (%.0f%%)", s.Events, s.Requests, pct)
	}
	return fmt.Sprintf("%d/%d (%.2g%%)", s.Events, s.Requests, pct)
}
