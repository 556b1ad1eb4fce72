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
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
)

var (
	// GroupVersion is the group and version of every kind in this package.
	GroupVersion = schema.GroupVersion{Group: "rollouts.sluice.dev", Version: "v1alpha1"}

	// SchemeBuilder registers the kinds of this package with a runtime.Scheme.
	SchemeBuilder = runtime.NewSchemeBuilder(addKnownTypes)

	// AddToScheme adds the kinds of this package to a runtime.Scheme.
	AddToScheme = SchemeBuilder.AddToScheme
)

// addKnownTypes registers every kind of this package.
func addKnownTypes(s *runtime.Scheme) error {
	s.AddKnownTypes(GroupVersion, &Canary{}, &CanaryList{}, &BlueGreen{}, &BlueGreenList{},
		&AnalysisTemplate{}, &AnalysisTemplateList{}, &ClusterAnalysisTemplate{}, &ClusterAnalysisTemplateList{})
	metav1.AddToGroupVersion(s, GroupVersion)
	return nil
}
