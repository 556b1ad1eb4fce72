package metrics

import (
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/sluice-dev/sluice/api/v1alpha1"
)

// Label names shared by the release collectors.
const (
	labelKind      = "kind"
	labelNamespace = "namespace"
	labelName      = "name"
)

var releaseLabels = []string{labelKind, labelNamespace, labelName}

// phases lists every phase, so that exactly one phase series is 1 per release.
var phases = []v1alpha1.Phase{
	v1alpha1.PhaseInitializing, v1alpha1.PhaseStable, v1alpha1.PhaseProgressing, v1alpha1.PhasePaused,
	v1alpha1.PhaseWaitingPromotion, v1alpha1.PhasePromoting, v1alpha1.PhaseRolledBack, v1alpha1.PhaseInvalid,
	v1alpha1.PhaseWaitingForTarget,
}

// Collectors are the operator's domain metrics.
type Collectors struct {
	// Weight is the canary's traffic weight as the router reports it.
	Weight *prometheus.GaugeVec
	// Phase is 1 for the phase a release is in and 0 for the others.
	Phase *prometheus.GaugeVec
	// Promotions counts promoted revisions.
	Promotions *prometheus.CounterVec
	// Rollbacks counts rolled-back revisions by reason.
	Rollbacks *prometheus.CounterVec
	// AnalysisResults counts check outcomes per metric.
	AnalysisResults *prometheus.CounterVec
	// JudgeEvidence is the judge's current rollback e-value per counter.
	JudgeEvidence *prometheus.GaugeVec
	// QueryDuration measures metric provider queries.
	QueryDuration *prometheus.HistogramVec
}

// New creates the collectors without registering them.
func New() *Collectors {
	return &Collectors{
		Weight: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "sluice_release_canary_weight",
			Help: "Traffic weight of the canary, 0 to 100, as the router reports it.",
		}, releaseLabels),
		Phase: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "sluice_release_phase",
			Help: "1 for the phase a release is in, 0 for the others.",
		}, append(append([]string{}, releaseLabels...), "phase")),
		Promotions: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "sluice_promotions_total",
			Help: "Revisions promoted.",
		}, releaseLabels),
		Rollbacks: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "sluice_rollbacks_total",
			Help: "Revisions rolled back, by reason.",
		}, append(append([]string{}, releaseLabels...), "reason")),
		AnalysisResults: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "sluice_analysis_results_total",
			Help: "Analysis check outcomes (Passed, Failed, NoData, Error) per metric.",
		}, append(append([]string{}, releaseLabels...), "metric", "outcome")),
		JudgeEvidence: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "sluice_judge_evidence",
			Help: "The statistical judge's rollback evidence (an e-value) per counter; it rolls back at 1/alpha.",
		}, append(append([]string{}, releaseLabels...), "counter")),
		QueryDuration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "sluice_analysis_query_duration_seconds",
			Help:    "Duration of metric provider queries.",
			Buckets: []float64{0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10},
		}, []string{"provider", "outcome"}),
	}
}

// Register adds the collectors to reg.
func (c *Collectors) Register(reg prometheus.Registerer) error {
	for _, col := range c.all() {
		if err := reg.Register(col); err != nil {
			return err
		}
	}
	return nil
}

func (c *Collectors) all() []prometheus.Collector {
	return []prometheus.Collector{c.Weight, c.Phase, c.Promotions, c.Rollbacks, c.AnalysisResults, c.JudgeEvidence, c.QueryDuration}
}

// ObserveRelease sets the gauges of one release from its status.
func (c *Collectors) ObserveRelease(kind, namespace, name string, phase v1alpha1.Phase, weight int32) {
	c.Weight.WithLabelValues(kind, namespace, name).Set(float64(weight))
	for _, p := range phases {
		v := 0.0
		if p == phase {
			v = 1
		}
		c.Phase.WithLabelValues(kind, namespace, name, string(p)).Set(v)
	}
}

// ObserveJudge sets the judge's evidence gauges of one release.
func (c *Collectors) ObserveJudge(kind, namespace, name string, j *v1alpha1.JudgeStatus) {
	if j == nil {
		return
	}
	for _, m := range j.Metrics {
		c.JudgeEvidence.WithLabelValues(kind, namespace, name, m.Name).Set(m.RollbackEvidence)
	}
}

// ObserveQuery records the duration of one provider query.
func (c *Collectors) ObserveQuery(provider, outcome string, d time.Duration) {
	c.QueryDuration.WithLabelValues(provider, outcome).Observe(d.Seconds())
}

// Forget drops every series of a deleted release.
func (c *Collectors) Forget(kind, namespace, name string) {
	match := prometheus.Labels{labelKind: kind, labelNamespace: namespace, labelName: name}
	c.Weight.DeletePartialMatch(match)
	c.Phase.DeletePartialMatch(match)
	c.Promotions.DeletePartialMatch(match)
	c.Rollbacks.DeletePartialMatch(match)
	c.AnalysisResults.DeletePartialMatch(match)
	c.JudgeEvidence.DeletePartialMatch(match)
}
