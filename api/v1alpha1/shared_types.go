package v1alpha1

import (
	"k8s.io/apimachinery/pkg/util/intstr"
)

// TargetRef names the user's workload. Its pod template is the template of
// every new version: changing it (an image bump in Git) starts a release.
type TargetRef struct {
	// Kind of the workload. Only Deployment is supported, and it is the
	// default.
	// +kubebuilder:validation:Enum=Deployment
	// +kubebuilder:default=Deployment
	// +optional
	Kind string `json:"kind,omitempty"`

	// Name of the workload, in the namespace of this object. Sluice derives the
	// names of the objects it manages from it (for example <name>-primary), so
	// it must be a DNS label of 1 to 52 characters. No default.
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=253
	// +kubebuilder:validation:Pattern=`^[a-z]([-a-z0-9]*[a-z0-9])?$`
	// +kubebuilder:validation:XValidation:rule="self.size() <= 52",message="targetRef.name must be at most 52 characters: Sluice derives names such as <name>-primary and <name>-preview from it"
	// +required
	Name string `json:"name"`
}

// ServicePort describes the port of the Services Sluice manages in front of
// the workload.
type ServicePort struct {
	// Port the Services expose, 1 to 65535. No default.
	// +kubebuilder:validation:Minimum=1
	// +kubebuilder:validation:Maximum=65535
	// +required
	Port int32 `json:"port"`

	// TargetPort is the container port traffic goes to: a number from 1 to
	// 65535, or the name of a container port. Defaults to Port.
	// +kubebuilder:validation:XIntOrString
	// +kubebuilder:validation:XValidation:rule="type(self) != int || (self >= 1 && self <= 65535)",message="targetPort must be a port number from 1 to 65535, or the name of a container port such as http"
	// +optional
	TargetPort *intstr.IntOrString `json:"targetPort,omitempty"`

	// PortName names the Service port: a DNS label of at most 15
	// characters. Istio infers the protocol from it (http, grpc, tcp-...).
	// Defaults to http.
	// +kubebuilder:validation:Pattern=`^[a-z]([-a-z0-9]*[a-z0-9])?$`
	// +kubebuilder:validation:MaxLength=15
	// +kubebuilder:default=http
	// +optional
	PortName string `json:"portName,omitempty"`
}
