package v1alpha1

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// AnalysisTemplateKind names the kind of template an analysis refers to.
// +kubebuilder:validation:Enum=AnalysisTemplate;ClusterAnalysisTemplate
type AnalysisTemplateKind string

// Template kinds.
const (
	// KindAnalysisTemplate is a template in the namespace of the release.
	KindAnalysisTemplate AnalysisTemplateKind = "AnalysisTemplate"
	// KindClusterAnalysisTemplate is a cluster-wide template, such as the
	// presets Sluice ships.
	KindClusterAnalysisTemplate AnalysisTemplateKind = "ClusterAnalysisTemplate"
)

// AnalysisTemplateRef makes an analysis start from a template: the
// template's provider, metrics and judge, with the arguments given here. The
// fields set next to templateRef in the same analysis override the
// template's (see docs/templates.md).
type AnalysisTemplateRef struct {
	// Kind of the template: AnalysisTemplate (in this namespace) or
	// ClusterAnalysisTemplate. Defaults to ClusterAnalysisTemplate.
	// +kubebuilder:default=ClusterAnalysisTemplate
	// +optional
	Kind AnalysisTemplateKind `json:"kind,omitempty"`

	// Name of the template, a DNS name of 1 to 253 characters. No default.
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=253
	// +kubebuilder:validation:Pattern=`^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$`
	// +required
	Name string `json:"name"`

	// Args are the values of the template's arguments, at most 32, each
	// name once. An argument the template does not declare is refused when
	// the release resolves the template. No default.
	// +kubebuilder:validation:MaxItems=32
	// +listType=map
	// +listMapKey=name
	// +optional
	Args []AnalysisArgValue `json:"args,omitempty"`
}

// AnalysisArgValue is the value of one template argument.
type AnalysisArgValue struct {
	// Name of the argument, as the template declares it.
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=63
	// +kubebuilder:validation:Pattern=`^[a-zA-Z][a-zA-Z0-9_]*$`
	// +required
	Name string `json:"name"`

	// Value of the argument, at most 1024 characters, checked against the
	// argument's type. No default.
	// +kubebuilder:validation:MaxLength=1024
	// +required
	Value string `json:"value"`
}

// AnalysisArgType is the type of a template argument. A value is checked
// against it before it is put into a query, so that an argument can never
// change a query's shape.
// +kubebuilder:validation:Enum=String;Number;Duration
type AnalysisArgType string

// Argument types.
const (
	// ArgString is text without quotes, backslashes, braces or line breaks,
	// safe inside a PromQL label matcher's quotes.
	ArgString AnalysisArgType = "String"
	// ArgNumber is a decimal number such as 0.99 or 500.
	ArgNumber AnalysisArgType = "Number"
	// ArgDuration is a PromQL duration such as 30s, 1m or 1h30m.
	ArgDuration AnalysisArgType = "Duration"
)

// AnalysisTemplateArg declares one argument of a template. Queries use it
// as $(args.<name>).
type AnalysisTemplateArg struct {
	// Name of the argument, a letter then letters, digits or underscores,
	// 1 to 63 characters. No default.
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=63
	// +kubebuilder:validation:Pattern=`^[a-zA-Z][a-zA-Z0-9_]*$`
	// +required
	Name string `json:"name"`

	// Type of the argument's values: String, Number or Duration. Defaults
	// to String.
	// +kubebuilder:default=String
	// +optional
	Type AnalysisArgType `json:"type,omitempty"`

	// Default is the value used when a reference gives none, at most 1024
	// characters. No default: without it, every reference must give a
	// value.
	// +kubebuilder:validation:MaxLength=1024
	// +optional
	Default *string `json:"default,omitempty"`

	// Description says what the argument is for, at most 1024 characters.
	// +kubebuilder:validation:MaxLength=1024
	// +optional
	Description string `json:"description,omitempty"`
}

// AnalysisTemplateSpec is a reusable analysis: the fields of a release's
// analysis, with arguments. A template cannot refer to another template.
// +kubebuilder:validation:XValidation:rule="!has(self.templateRef)",message="a template cannot refer to another template: remove templateRef and write the analysis here"
type AnalysisTemplateSpec struct {
	// Args are the template's arguments, at most 32, each name once. No
	// default.
	// +kubebuilder:validation:MaxItems=32
	// +listType=map
	// +listMapKey=name
	// +optional
	Args []AnalysisTemplateArg `json:"args,omitempty"`

	Analysis `json:",inline"`
}

// AnalysisTemplate is a reusable analysis for the Canaries and BlueGreens of
// its namespace. A release resolves it once, when it starts, and keeps what
// it resolved in its status: editing the template changes the next release,
// never the running one.
// +kubebuilder:object:root=true
// +kubebuilder:resource:shortName=at,categories=sluice
// +kubebuilder:printcolumn:name="Age",type=date,JSONPath=`.metadata.creationTimestamp`
type AnalysisTemplate struct {
	metav1.TypeMeta `json:",inline"`
	// +optional
	metav1.ObjectMeta `json:"metadata,omitempty"`

	// Spec is the reusable analysis.
	// +required
	Spec AnalysisTemplateSpec `json:"spec"`
}

// AnalysisTemplateList is a list of AnalysisTemplates.
// +kubebuilder:object:root=true
type AnalysisTemplateList struct {
	metav1.TypeMeta `json:",inline"`
	// +optional
	metav1.ListMeta `json:"metadata,omitempty"`
	// Items are the templates.
	Items []AnalysisTemplate `json:"items"`
}

// ClusterAnalysisTemplate is a reusable analysis for every namespace, such
// as the presets for Istio, Linkerd and Traefik that Sluice ships.
// +kubebuilder:object:root=true
// +kubebuilder:resource:scope=Cluster,shortName=cat,categories=sluice
// +kubebuilder:printcolumn:name="Age",type=date,JSONPath=`.metadata.creationTimestamp`
type ClusterAnalysisTemplate struct {
	metav1.TypeMeta `json:",inline"`
	// +optional
	metav1.ObjectMeta `json:"metadata,omitempty"`

	// Spec is the reusable analysis.
	// +required
	Spec AnalysisTemplateSpec `json:"spec"`
}

// ClusterAnalysisTemplateList is a list of ClusterAnalysisTemplates.
// +kubebuilder:object:root=true
type ClusterAnalysisTemplateList struct {
	metav1.TypeMeta `json:",inline"`
	// +optional
	metav1.ListMeta `json:"metadata,omitempty"`
	// Items are the templates.
	Items []ClusterAnalysisTemplate `json:"items"`
}

// PinnedAnalysis is the analysis a release resolved from a template when it
// started. The release runs it to the end, whatever happens to the template
// meanwhile; an edit of the release object's own analysis (the reference,
// its arguments or overrides) resolves again.
type PinnedAnalysis struct {
	// Field is the analysis it stands for: analysis, prePromotionAnalysis
	// or postPromotionAnalysis.
	Field string `json:"field"`
	// Revision is the revision of the release it was resolved for.
	// +optional
	Revision string `json:"revision,omitempty"`
	// Template is the template it came from, as Kind/name.
	Template string `json:"template"`
	// TemplateGeneration is the template's generation when it was resolved.
	// +optional
	TemplateGeneration int64 `json:"templateGeneration,omitempty"`
	// ReferenceDigest identifies the release object's analysis (reference,
	// arguments and overrides) it was resolved from.
	ReferenceDigest string `json:"referenceDigest"`
	// Digest identifies the resolved analysis: two releases with the same
	// digest run the same queries.
	Digest string `json:"digest"`
	// Analysis is the resolved analysis, every argument substituted.
	// +kubebuilder:validation:Type=object
	// +kubebuilder:pruning:PreserveUnknownFields
	// +kubebuilder:validation:Schemaless
	Analysis Analysis `json:"analysis"`
}
