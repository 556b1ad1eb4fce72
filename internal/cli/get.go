package cli

import (
	"context"
	"fmt"
	"io"
	"sort"
	"text/tabwriter"
	"time"

	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/sluice-dev/sluice/api/v1alpha1"
	"github.com/sluice-dev/sluice/internal/rollout"
)

// GetOptions selects what `get` lists.
type GetOptions struct {
	// Namespace to list; ignored with AllNamespaces.
	Namespace string
	// AllNamespaces lists every namespace and adds a NAMESPACE column.
	AllNamespaces bool
	// Now is the time ages are measured from.
	Now time.Time
}

// row is one line of the `get` table.
type row struct {
	namespace, name, kind, phase, traffic, step, ready string
	created                                            metav1.Time
}

// Get writes a table of the Canaries and BlueGreens in a namespace (or all):
// name, kind, phase, canary weight or active color, step, Ready and age.
func Get(ctx context.Context, w io.Writer, c client.Client, o GetOptions) error {
	var opts []client.ListOption
	if !o.AllNamespaces {
		opts = append(opts, client.InNamespace(o.Namespace))
	}
	var canaries v1alpha1.CanaryList
	if err := c.List(ctx, &canaries, opts...); err != nil {
		return fmt.Errorf("list canaries: %w", err)
	}
	var blueGreens v1alpha1.BlueGreenList
	if err := c.List(ctx, &blueGreens, opts...); err != nil {
		return fmt.Errorf("list bluegreens: %w", err)
	}
	rows := make([]row, 0, len(canaries.Items)+len(blueGreens.Items))
	for i := range canaries.Items {
		rows = append(rows, canaryRow(&canaries.Items[i]))
	}
	for i := range blueGreens.Items {
		rows = append(rows, blueGreenRow(&blueGreens.Items[i]))
	}
	if len(rows) == 0 {
		where := "namespace " + o.Namespace
		if o.AllNamespaces {
			where = "any namespace"
		}
		_, err := fmt.Fprintf(w, "No canaries or bluegreens found in %s.\n", where)
		return err
	}
	sort.Slice(rows, func(i, j int) bool {
		a, b := rows[i], rows[j]
		if a.namespace != b.namespace {
			return a.namespace < b.namespace
		}
		if a.name != b.name {
			return a.name < b.name
		}
		return a.kind < b.kind
	})
	return writeTable(w, rows, o)
}

func writeTable(w io.Writer, rows []row, o GetOptions) error {
	tw := tabwriter.NewWriter(w, 0, 8, 3, ' ', 0)
	if o.AllNamespaces {
		_, _ = fmt.Fprint(tw, "NAMESPACE\t")
	}
	_, _ = fmt.Fprintln(tw, "NAME\tKIND\tPHASE\tWEIGHT/ACTIVE\tSTEP\tREADY\tAGE")
	for _, r := range rows {
		if o.AllNamespaces {
			_, _ = fmt.Fprintf(tw, "%s\t", r.namespace)
		}
		_, _ = fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\n",
			r.name, r.kind, r.phase, r.traffic, r.step, r.ready, age(r.created, o.Now))
	}
	return tw.Flush()
}

func canaryRow(cn *v1alpha1.Canary) row {
	st := cn.Status
	return row{
		namespace: cn.Namespace, name: cn.Name, kind: string(KindCanary),
		phase:   string(canaryPhase(st)),
		traffic: fmt.Sprintf("%d%%", st.CanaryWeight),
		step:    canaryStepCount(cn.Spec.Steps, st),
		ready:   readyOf(st.Conditions), created: cn.CreationTimestamp,
	}
}

func blueGreenRow(bg *v1alpha1.BlueGreen) row {
	st := bg.Status
	active := string(st.ActiveColor)
	if active == "" {
		active = "-"
	}
	return row{
		namespace: bg.Namespace, name: bg.Name, kind: string(KindBlueGreen),
		phase: string(blueGreenPhase(st)), traffic: active, step: blueGreenStage(st),
		ready: readyOf(st.Conditions), created: bg.CreationTimestamp,
	}
}

// canaryStepCount counts steps from one ("2/4"): "-" when no release is in
// flight, "done" once every step passed (see rollout.CanaryProgressOf).
func canaryStepCount(steps []v1alpha1.CanaryStep, st v1alpha1.CanaryStatus) string {
	switch p := rollout.CanaryProgressOf(steps, st); {
	case !p.InFlight:
		return "-"
	case p.Done:
		return "done"
	default:
		return fmt.Sprintf("%d/%d", p.Step, p.Steps)
	}
}

// canaryPhase is the phase the operator wrote, or the one derived from
// status when it wrote none yet.
func canaryPhase(st v1alpha1.CanaryStatus) v1alpha1.Phase {
	if st.Phase != "" {
		return st.Phase
	}
	return rollout.CanaryPhase(st)
}

// blueGreenPhase is canaryPhase for a BlueGreen.
func blueGreenPhase(st v1alpha1.BlueGreenStatus) v1alpha1.Phase {
	if st.Phase != "" {
		return st.Phase
	}
	return rollout.BlueGreenPhase(st)
}

// blueGreenStage names where a BlueGreen release stands, as the state
// machine sees it (rollout.BlueGreenStageOf).
func blueGreenStage(st v1alpha1.BlueGreenStatus) string {
	return string(rollout.BlueGreenStageOf(st))
}

// readyOf is the status of the Ready condition, Unknown when absent.
func readyOf(conds []metav1.Condition) string {
	if c := meta.FindStatusCondition(conds, v1alpha1.ConditionReady); c != nil {
		return string(c.Status)
	}
	return string(metav1.ConditionUnknown)
}
