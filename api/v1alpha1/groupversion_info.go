// Package v1alpha1 holds the rollouts.sluice.dev/v1alpha1 API: the Canary and
// BlueGreen kinds, the types they share, and the condition types and reasons
// their status reports.
//
// Validation lives here too, as OpenAPI and CEL markers, so that the API server
// itself refuses an invalid spec with a message that says what to fix.
//
// +kubebuilder:object:generate=true
// +groupName=rollouts.sluice.dev
package v1alpha1

import (
	"k8s.io/apimachinery/pkg/runtime/schema"
	"sigs.k8s.io/controller-runtime/pkg/scheme"
)

var (
	// GroupVersion is the group and version of every kind in this package.
	GroupVersion = schema.GroupVersion{Group: "rollouts.sluice.dev", Version: "v1alpha1"}

	// SchemeBuilder registers the kinds of this package with a runtime.Scheme.
	SchemeBuilder = &scheme.Builder{GroupVersion: GroupVersion}

	// AddToScheme adds the kinds of this package to a runtime.Scheme.
	AddToScheme = SchemeBuilder.AddToScheme
)
