package hooks

import (
	"fmt"
	"slices"

	corev1 "k8s.io/api/core/v1"

	"github.com/sluice-dev/sluice/api/v1alpha1"
)

// ServiceAccountsFlag is the manager's flag that sets
// JobPolicy.ServiceAccounts; refusals name it.
const ServiceAccountsFlag = "--hook-service-accounts"

// defaultServiceAccount is the ServiceAccount every namespace has, which a
// pod runs as when it names none.
const defaultServiceAccount = "default"

// JobPolicy decides which Job hooks Sluice runs. Whoever may create a Canary
// or BlueGreen decides the Job's pod template, and Sluice creates the Job with
// its own rights; without a policy, creating a release object would be
// creating pods as any ServiceAccount of the namespace, and in the operator's
// own namespace as the operator.
//
// The zero value is the default policy: a Job hook's pod runs as the
// namespace's default ServiceAccount (it names none, or "default"), in any
// namespace. The chart ships the same rule as a ValidatingAdmissionPolicy, so
// the API server refuses such a spec at apply time; this is the operator's
// own check, for clusters where the policy is not installed.
type JobPolicy struct {
	// ServiceAccounts names further ServiceAccounts a hook's pod may run as,
	// in the release object's namespace.
	ServiceAccounts []string
	// OperatorNamespace is the namespace the operator runs in, where no Job
	// hook runs; empty turns that check off.
	OperatorNamespace string
}

// PolicyError is a hook the JobPolicy refuses. Only the spec can lift it
// (or an operator changing the policy), so callers treat it as an invalid
// spec: Stalled, not retried.
type PolicyError struct {
	// Hook is the refused hook's name.
	Hook string
	// Reason says why and what to write instead.
	Reason string
}

// Error names the hook and says why it is refused.
func (e *PolicyError) Error() string {
	return fmt.Sprintf("hook %q: %s", e.Hook, e.Reason)
}

// Check returns a *PolicyError for the first of hooks that the policy
// refuses in namespace, or nil. Webhook hooks are not its business.
func (p JobPolicy) Check(namespace string, hooks []Hook) error {
	for _, h := range hooks {
		if err := p.check(namespace, h); err != nil {
			return err
		}
	}
	return nil
}

func (p JobPolicy) check(namespace string, h Hook) error {
	if h.Action.Job == nil {
		return nil
	}
	if p.OperatorNamespace != "" && namespace == p.OperatorNamespace {
		return &PolicyError{Hook: h.Name, Reason: fmt.Sprintf("Sluice runs no Job hooks in namespace %s, its own: "+
			"put the release in your application's namespace, or use a webhook hook", namespace)}
	}
	spec := h.Action.Job.Template.Spec
	for _, sa := range []string{spec.ServiceAccountName, spec.DeprecatedServiceAccount} {
		if !p.allowed(sa) {
			return &PolicyError{Hook: h.Name, Reason: fmt.Sprintf("the Job would run as ServiceAccount %q, which "+
				"Sluice's hook policy does not allow: remove serviceAccountName from the Job's pod template (or set "+
				"it to \"default\") to run as the namespace's default ServiceAccount, or ask the platform team to "+
				"allow %q (manager flag %s, Helm value hooks.allowedServiceAccounts)", sa, sa, ServiceAccountsFlag)}
		}
	}
	return nil
}

// allowed reports whether a pod may name sa.
func (p JobPolicy) allowed(sa string) bool {
	return sa == "" || sa == defaultServiceAccount || slices.Contains(p.ServiceAccounts, sa)
}

// runsAsDefault reports whether a pod spec runs as the default
// ServiceAccount.
func runsAsDefault(spec corev1.PodSpec) bool {
	for _, sa := range []string{spec.ServiceAccountName, spec.DeprecatedServiceAccount} {
		if sa != "" && sa != defaultServiceAccount {
			return false
		}
	}
	return true
}

// OfCanary returns the hooks of a Canary's spec.
func OfCanary(c *v1alpha1.Canary) []Hook {
	out := make([]Hook, 0, len(c.Spec.Hooks))
	for _, h := range c.Spec.Hooks {
		out = append(out, FromCanary(h))
	}
	return out
}

// OfBlueGreen returns the hooks of a BlueGreen's spec.
func OfBlueGreen(bg *v1alpha1.BlueGreen) []Hook {
	out := make([]Hook, 0, len(bg.Spec.Hooks))
	for _, h := range bg.Spec.Hooks {
		out = append(out, FromBlueGreen(h))
	}
	return out
}
