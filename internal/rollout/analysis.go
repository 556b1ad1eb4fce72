package rollout

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/sluice-dev/sluice/api/v1alpha1"
)

// Defaults of the analysis, the same as the CRD's, for specs that reach Next
// without the API server's defaulting (tests, the simulator).
const (
	DefaultAnalysisInterval = time.Minute
	DefaultFailureLimit     = 2
	DefaultErrorLimit       = 5
)

// Check is the result of one analysis check the shell ran: one MetricResult
// per threshold metric (and per rollout hook, see RunHook), plus the judge's
// new state when the analysis has a judge.
type Check struct {
	// Results, one per metric, with outcome Passed, Failed, NoData or Error.
	Results []v1alpha1.MetricResult
	// Judge is the statistical judge's state after this check's readings, or
	// nil without a judge. Its Decision is the verdict.
	Judge *v1alpha1.JudgeStatus
}

// Verdict is what the analysis so far says about a release.
type Verdict string

// Verdicts, from the stored AnalysisStatus.
const (
	// VerdictNone: no check has run yet.
	VerdictNone Verdict = "None"
	// VerdictPass: the last check passed.
	VerdictPass Verdict = "Pass"
	// VerdictPromote: the last check passed and the judge has evidence that
	// the new version is within tolerance (used only with promoteOnEvidence).
	VerdictPromote Verdict = "Promote"
	// VerdictHold: the last check had no data or the provider failed, below
	// errorLimit. Hold: never promote, never count a failure.
	VerdictHold Verdict = "Hold"
	// VerdictFail: the last check failed; failures are still below
	// failureLimit.
	VerdictFail Verdict = "Fail"
	// VerdictPause: errorLimit checks in a row could not be run. Pause and
	// say why; never roll back for it.
	VerdictPause Verdict = "Pause"
	// VerdictRollback: failureLimit failed checks, or the judge found a
	// regression.
	VerdictRollback Verdict = "Rollback"
)

// analysisLimits are the analysis settings with defaults applied.
type analysisLimits struct {
	interval          time.Duration
	failureLimit      int32
	errorLimit        int32
	promoteOnEvidence bool
}

func limitsOf(a *v1alpha1.Analysis) analysisLimits {
	l := analysisLimits{
		interval: DefaultAnalysisInterval, failureLimit: DefaultFailureLimit, errorLimit: DefaultErrorLimit,
	}
	if a == nil {
		return l
	}
	if a.Interval != nil && a.Interval.Duration > 0 {
		l.interval = a.Interval.Duration
	}
	if a.FailureLimit > 0 {
		l.failureLimit = a.FailureLimit
	}
	if a.ErrorLimit > 0 {
		l.errorLimit = a.ErrorLimit
	}
	l.promoteOnEvidence = a.Judge != nil && a.Judge.PromoteOnEvidence
	return l
}

// classify reduces one check's results to a single outcome. A failure wins
// over everything (it is evidence against the release; a judge that decided
// Rollback is one), then a provider error (nothing can be concluded and the
// error counter must move), then no data. A check without results measured
// nothing: no data, whatever the judge's state says (the shell reports the
// judge's reading as a result of its own, NoData when it brought no new
// traffic), so no data never counts as a pass for any shape of analysis.
func classify(results []v1alpha1.MetricResult, judge *v1alpha1.JudgeStatus) v1alpha1.MetricOutcome {
	seen := map[v1alpha1.MetricOutcome]bool{}
	for _, r := range results {
		seen[r.Outcome] = true
	}
	switch {
	case seen[v1alpha1.OutcomeFailed], judge != nil && judge.Decision == v1alpha1.JudgeRollback:
		return v1alpha1.OutcomeFailed
	case seen[v1alpha1.OutcomeError]:
		return v1alpha1.OutcomeError
	case seen[v1alpha1.OutcomeNoData], len(results) == 0:
		return v1alpha1.OutcomeNoData
	}
	return v1alpha1.OutcomePassed
}

// currentJudge reports whether a judge status was gathered under the
// analysis' judge spec as it is now (same JudgeFingerprint).
func currentJudge(a *v1alpha1.Analysis, j *v1alpha1.JudgeStatus) bool {
	return a != nil && a.Judge != nil && j != nil && j.Fingerprint == v1alpha1.JudgeFingerprint(a.Judge, a.Provider)
}

// dropStaleJudge removes judge evidence gathered under another judge spec
// than the analysis' current one (its mode, tolerance, alpha, queries or
// provider were edited, or the judge was removed), and reports whether it
// did. Why: evidence is only meaningful for the spec it was gathered under;
// mixing two would void the stated error rate, and reading a state of
// another mode would fail every check. A rollback the judge decided was
// acted on when it was decided; it is final whatever happens to the spec.
func dropStaleJudge(a *v1alpha1.Analysis, st *v1alpha1.AnalysisStatus) (*v1alpha1.AnalysisStatus, bool) {
	if st == nil || st.Judge == nil || currentJudge(a, st.Judge) {
		return st, false
	}
	next := st.DeepCopy()
	next.Judge = nil
	return next, true
}

// applyCheck records one check in the analysis status and returns the new
// status; cur is not modified. Passing checks add to Passed (a BlueGreen
// phase analysis completes after `checks` of them); failed checks add to Failures (they are never
// forgiven within a release: failureLimit bounds the total); provider errors
// add to ConsecutiveErrors, which any check the provider answered resets; no
// data changes neither counter.
func applyCheck(cur *v1alpha1.AnalysisStatus, c Check, now metav1.Time) *v1alpha1.AnalysisStatus {
	next := &v1alpha1.AnalysisStatus{}
	if cur != nil {
		next = cur.DeepCopy()
	}
	next.Checks++
	next.LastCheckAt = &now
	next.Results = uniqueResults(c.Results)
	if c.Judge != nil {
		next.Judge = c.Judge.DeepCopy()
	}
	switch classify(c.Results, c.Judge) {
	case v1alpha1.OutcomeFailed:
		next.Failures++
	case v1alpha1.OutcomePassed:
		next.Passed++
	}
	errors := next.ConsecutiveErrors
	next.ConsecutiveErrors = 0
	for _, r := range c.Results {
		if r.Outcome == v1alpha1.OutcomeError {
			next.ConsecutiveErrors = errors + 1
			break
		}
	}
	return next
}

// uniqueResults copies results keeping the last result of each name, since
// status lists them as a map keyed by name.
func uniqueResults(in []v1alpha1.MetricResult) []v1alpha1.MetricResult {
	var out []v1alpha1.MetricResult
	index := map[string]int{}
	for _, r := range in {
		if i, ok := index[r.Name]; ok {
			out[i] = *r.DeepCopy()
			continue
		}
		index[r.Name] = len(out)
		out = append(out, *r.DeepCopy())
	}
	return out
}

// verdict reads what the analysis so far says. It is computed from status
// alone, so a restarted operator reaches the same verdict.
func verdict(a *v1alpha1.Analysis, st *v1alpha1.AnalysisStatus) Verdict {
	if st == nil || st.LastCheckAt == nil {
		return VerdictNone
	}
	l := limitsOf(a)
	judge := st.Judge
	switch {
	case judge != nil && judge.Decision == v1alpha1.JudgeRollback, st.Failures >= l.failureLimit:
		return VerdictRollback
	case st.ConsecutiveErrors >= l.errorLimit:
		return VerdictPause
	}
	switch classify(st.Results, judge) {
	case v1alpha1.OutcomeFailed:
		return VerdictFail
	case v1alpha1.OutcomeError, v1alpha1.OutcomeNoData:
		return VerdictHold
	}
	if l.promoteOnEvidence && judge != nil && judge.Decision == v1alpha1.JudgePromote {
		return VerdictPromote
	}
	return VerdictPass
}

// nextCheckAt is when the next check is due: an interval after the last one,
// or an interval after clockStart (the moment the new version first carried
// traffic) for the first check, so that it measures a full interval.
func nextCheckAt(a *v1alpha1.Analysis, st *v1alpha1.AnalysisStatus, clockStart time.Time) time.Time {
	l := limitsOf(a)
	if st == nil || st.LastCheckAt == nil {
		return clockStart.Add(l.interval)
	}
	return st.LastCheckAt.Add(l.interval)
}

// analysisSummary describes the analysis in one line, with the values that
// drive the verdict, for events, conditions and the audit trail.
func analysisSummary(a *v1alpha1.Analysis, st *v1alpha1.AnalysisStatus) string {
	if st == nil {
		return "no check yet"
	}
	l := limitsOf(a)
	parts := make([]string, 0, len(st.Results)+1)
	for _, r := range st.Results {
		parts = append(parts, resultSummary(r))
	}
	if st.Judge != nil {
		parts = append(parts, fmt.Sprintf("judge %s: %s", st.Judge.Decision, st.Judge.Summary))
	}
	return fmt.Sprintf("check %d: %s; failures %d/%d, provider errors in a row %d/%d",
		st.Checks, strings.Join(parts, ", "), st.Failures, l.failureLimit, st.ConsecutiveErrors, l.errorLimit)
}

// resultSummary says in a few words what one metric read and whether it
// passed: "error-rate 0.0042 passed", "latency-p99-ms 495 failed (above the
// range (-Inf, 250])". Values are rounded to four significant digits; status
// keeps them whole.
func resultSummary(r v1alpha1.MetricResult) string {
	s := r.Name
	if r.Value != "" {
		v := r.Value
		if f, err := strconv.ParseFloat(v, 64); err == nil {
			v = strconv.FormatFloat(f, 'g', 4, 64)
		}
		s += " " + v
	}
	switch r.Outcome {
	case v1alpha1.OutcomeNoData:
		s += " no data"
	default:
		s += " " + strings.ToLower(string(r.Outcome))
	}
	if r.Outcome != v1alpha1.OutcomePassed && r.Message != "" {
		msg := r.Message
		if r.Value != "" {
			msg = strings.TrimPrefix(msg, "value "+r.Value+" is ")
		}
		s += " (" + msg + ")"
	}
	return s
}
