package sequential

import (
	"errors"
	"fmt"
	"math"
)

// Mode says what one observation of the test is.
type Mode int

const (
	// PerRequest treats every request as an observation: the split of each
	// reading's new events between the versions adds to the evidence in full.
	PerRequest Mode = iota
	// PerInterval treats each reading as one observation: a coin flip on
	// whether the canary got more than its median share of the new events.
	PerInterval
)

// String names the mode as the API does.
func (m Mode) String() string {
	switch m {
	case PerRequest:
		return "PerRequest"
	case PerInterval:
		return "PerInterval"
	default:
		return fmt.Sprintf("Mode(%d)", int(m))
	}
}

// Counts is a pair of counts of one version: requests and the events
// (failures, slow requests) among them.
type Counts struct {
	// Requests counted.
	Requests int64
	// Events counted among the requests.
	Events int64
}

// Reading is one read of the cumulative counters of both versions.
type Reading struct {
	// Canary is the canary's cumulative counts.
	Canary Counts
	// Primary is the primary's cumulative counts.
	Primary Counts
}

// State is the running evidence of one test. It is plain data: store it,
// hand it back with the next reading, and the test carries on exactly where
// it stopped.
type State struct {
	// LastCanary and LastPrimary are the cumulative counts last read, nil
	// before the first reading.
	LastCanary  *Counts
	LastPrimary *Counts
	// Canary and Primary add up the new counts seen since the first reading.
	Canary  Counts
	Primary Counts
	// Observations is how many readings added evidence.
	Observations int32
	// LogRollback holds, per alternative, the log likelihood ratio against a
	// healthy canary. Empty before the first observation.
	LogRollback []float64
	// LogPromotion holds, per alternative, the log likelihood ratio against a
	// clear regression. Empty before the first observation.
	LogPromotion []float64
}

// Config sets up a test.
type Config struct {
	// Alpha is the level of this test: a healthy canary reaches the rollback
	// threshold 1/Alpha with probability at most Alpha. When several tests
	// run side by side, the caller splits its alpha between them.
	Alpha float64
	// Tolerance is ψ₀: the ratio of canary to primary event rates still
	// counted as healthy. Must be positive; 1 means "no worse".
	Tolerance float64
	// Regression is ψ₁, the ratio the promotion test rules out. Zero means
	// twice the tolerance; otherwise it must exceed Tolerance.
	Regression float64
	// Mode is PerRequest or PerInterval.
	Mode Mode
}

// Alternatives of the mixtures. Changing them changes the length or meaning
// of stored sums, so they are fixed.
var (
	// rollbackRatios are ψ/ψ₀ for the PerRequest rollback alternatives.
	rollbackRatios = []float64{1.2, 1.5, 2, 2.5, 3, 4, 6, 10}
	// promotionRatios are ψ/ψ₀ for the PerRequest promotion alternatives.
	promotionRatios = []float64{1, 0.8, 0.6, 0.4}
	// coinAlternatives are the PerInterval chances of a "worse" interval.
	coinAlternatives = []float64{0.6, 0.7, 0.8, 0.9, 0.95}
)

// maxLog caps each stored log likelihood ratio so that e-values stay finite
// (exp(700) fits a float64). Capping from above only lowers the evidence, so
// the test stays valid; the cap lies far beyond any threshold.
const maxLog = 700

// Test is a configured sequential test. It holds no evidence: that lives in
// State. A Test is safe for concurrent use.
type Test struct {
	cfg       Config
	rollback  []float64
	promotion []float64
}

// New checks cfg and returns the test it describes.
func New(cfg Config) (*Test, error) {
	if !(cfg.Alpha > 0 && cfg.Alpha < 1) {
		return nil, fmt.Errorf("alpha must be in (0, 1), got %v", cfg.Alpha)
	}
	if !(cfg.Tolerance > 0) || math.IsInf(cfg.Tolerance, 0) {
		return nil, fmt.Errorf("tolerance must be a positive number, got %v", cfg.Tolerance)
	}
	if cfg.Regression == 0 {
		cfg.Regression = 2 * cfg.Tolerance
	}
	if !(cfg.Regression > cfg.Tolerance) || math.IsInf(cfg.Regression, 0) {
		return nil, fmt.Errorf("regression (%v) must be finite and above tolerance (%v)", cfg.Regression, cfg.Tolerance)
	}
	t := &Test{cfg: cfg}
	switch cfg.Mode {
	case PerRequest:
		t.rollback = scaled(rollbackRatios, cfg.Tolerance)
		t.promotion = scaled(promotionRatios, cfg.Tolerance)
	case PerInterval:
		t.rollback = append([]float64(nil), coinAlternatives...)
		t.promotion = append([]float64(nil), coinAlternatives...)
	default:
		return nil, fmt.Errorf("unknown mode %v", cfg.Mode)
	}
	return t, nil
}

func scaled(ratios []float64, by float64) []float64 {
	out := make([]float64, len(ratios))
	for i, r := range ratios {
		out[i] = r * by
	}
	return out
}

// Config returns the test's configuration, with defaults filled in.
func (t *Test) Config() Config { return t.cfg }

// Threshold is the e-value at which the test decides: 1/Alpha.
func (t *Test) Threshold() float64 { return 1 / t.cfg.Alpha }

// RollbackAlternatives returns the alternatives of the rollback mixture, in
// the order of State.LogRollback: rate ratios ψ in PerRequest mode, chances
// of a "canary worse" interval in PerInterval mode.
func (t *Test) RollbackAlternatives() []float64 { return append([]float64(nil), t.rollback...) }

// PromotionAlternatives returns the alternatives of the promotion mixture, in
// the order of State.LogPromotion.
func (t *Test) PromotionAlternatives() []float64 { return append([]float64(nil), t.promotion...) }

// ErrNegativeCount is returned for a reading with a negative count.
var ErrNegativeCount = errors.New("counts must not be negative")

// Observe adds one reading of cumulative counters to the evidence and returns
// the new state. It never changes s. The first reading only sets a baseline.
func (t *Test) Observe(s State, r Reading) (State, error) {
	if r.Canary.Requests < 0 || r.Canary.Events < 0 || r.Primary.Requests < 0 || r.Primary.Events < 0 {
		return s, fmt.Errorf("reading %+v: %w", r, ErrNegativeCount)
	}
	if err := t.checkState(s); err != nil {
		return s, err
	}
	next := s
	next.LogRollback = append([]float64(nil), s.LogRollback...)
	next.LogPromotion = append([]float64(nil), s.LogPromotion...)
	canary, primary := r.Canary, r.Primary
	next.LastCanary, next.LastPrimary = &canary, &primary
	if s.LastCanary == nil || s.LastPrimary == nil {
		return next, nil
	}
	dc, dp := delta(*s.LastCanary, canary), delta(*s.LastPrimary, primary)
	next.Canary = add(s.Canary, dc)
	next.Primary = add(s.Primary, dp)
	if dc.Requests == 0 || dp.Requests == 0 {
		return next, nil // no split of traffic, so no split of events to judge
	}
	if t.cfg.Mode == PerRequest && dc.Events == 0 && dp.Events == 0 {
		return next, nil // every likelihood ratio is exactly 1
	}
	if len(next.LogRollback) == 0 {
		next.LogRollback = make([]float64, len(t.rollback))
		next.LogPromotion = make([]float64, len(t.promotion))
	}
	total := float64(dc.Requests) + float64(dp.Requests)
	qc, qp := float64(dc.Requests)/total, float64(dp.Requests)/total
	if t.cfg.Mode == PerRequest {
		t.addSplit(next, qc, qp, dc.Events, dp.Events)
	} else {
		t.addCoin(next, qc, qp, dc.Events, dp.Events)
	}
	if next.Observations < math.MaxInt32 {
		next.Observations++
	}
	return next, nil
}

func (t *Test) checkState(s State) error {
	nr, np := len(s.LogRollback), len(s.LogPromotion)
	if (nr != 0 || np != 0) && (nr != len(t.rollback) || np != len(t.promotion)) {
		return fmt.Errorf("state has %d rollback and %d promotion sums but a %v test has %d and %d: "+
			"the mode changed, start from an empty state", nr, np, t.cfg.Mode, len(t.rollback), len(t.promotion))
	}
	for _, l := range append(append([]float64(nil), s.LogRollback...), s.LogPromotion...) {
		if math.IsNaN(l) || math.IsInf(l, 1) {
			return fmt.Errorf("state holds an invalid log likelihood ratio %v", l)
		}
	}
	return nil
}

// delta is what happened between two cumulative readings. A drop in either
// count means the counter was reset, and the new reading is all that happened
// since.
func delta(last, cur Counts) Counts {
	if cur.Requests < last.Requests || cur.Events < last.Events {
		return cur
	}
	return Counts{Requests: cur.Requests - last.Requests, Events: cur.Events - last.Events}
}

// add sums counts, saturating instead of overflowing.
func add(a, b Counts) Counts {
	return Counts{Requests: saturatingAdd(a.Requests, b.Requests), Events: saturatingAdd(a.Events, b.Events)}
}

func saturatingAdd(a, b int64) int64 {
	if a > math.MaxInt64-b {
		return math.MaxInt64
	}
	return a + b
}

// accumulate adds inc to a stored log likelihood ratio, capped at maxLog.
func accumulate(sum, inc float64) float64 {
	return math.Min(sum+inc, maxLog)
}

// RollbackEvidence is the e-value against a healthy canary: the average
// over the alternatives of their likelihood ratios. It is 1 before any
// observation, finite and never negative.
func (t *Test) RollbackEvidence(s State) float64 { return mixture(s.LogRollback) }

// PromotionEvidence is the e-value against a clear regression.
func (t *Test) PromotionEvidence(s State) float64 { return mixture(s.LogPromotion) }

// mixture is the mean of exp(logs), computed as exp(logsumexp − log len).
func mixture(logs []float64) float64 {
	if len(logs) == 0 {
		return 1
	}
	top := math.Inf(-1)
	for _, l := range logs {
		top = math.Max(top, l)
	}
	if math.IsInf(top, -1) {
		return 0
	}
	var sum float64
	for _, l := range logs {
		sum += math.Exp(l - top)
	}
	return math.Exp(top + math.Log(sum/float64(len(logs))))
}
