package analysis

import (
	"fmt"

	corev1 "k8s.io/api/core/v1"
)

// LabelProviderCredentials marks a Secret whose owner consents to Sluice
// sending its contents to a metric provider. Sluice reads Secrets with its
// own rights, which the author of a release object may not have: without
// consent, naming a Secret in a provider's secretRef would send any Secret of
// the namespace that happens to have the right keys to an address of the
// author's choosing.
const LabelProviderCredentials = "rollouts.sluice.dev/provider-credentials"

// CheckConsent refuses a Secret that does not say it holds provider
// credentials (the label LabelProviderCredentials set to "true") and, labelled
// or not, a ServiceAccount token Secret: that is a Kubernetes identity, not a
// provider's password. The message says what to do instead.
func CheckConsent(s *corev1.Secret) error {
	if s.Type == corev1.SecretTypeServiceAccountToken {
		return fmt.Errorf("it is a ServiceAccount token (type %s), which Sluice never sends to a provider: "+
			"put the provider's token in a Secret of your own labelled %s=true", s.Type, LabelProviderCredentials)
	}
	if s.Labels[LabelProviderCredentials] != "true" {
		return fmt.Errorf("it is not labelled %s=true, so Sluice does not send its contents to a provider: "+
			"label it (kubectl label secret %s %s=true) if it holds this provider's credentials",
			LabelProviderCredentials, s.Name, LabelProviderCredentials)
	}
	return nil
}
