// Package cluster runs a real, local Kubernetes control plane with fake
// nodes, for the sandbox, the end-to-end suite and the Helm install test. It
// is test support: the operator never imports it.
//
// Start runs, as child processes on loopback ports:
//
//   - etcd and kube-apiserver, with the ServiceAccount admission plugin on
//     (envtest turns it off): as in a real cluster, a pod is refused until
//     its namespace has a `default` ServiceAccount;
//   - kube-controller-manager, so that Deployments make ReplicaSets and pods,
//     Jobs complete and namespaces get their ServiceAccount;
//   - kube-scheduler, which binds pods to nodes;
//   - kwok, which plays the kubelet of the fake nodes: a scheduled pod
//     becomes Running and Ready at once, a pod of a Job then Succeeds, a
//     deleted pod goes away. No container ever runs.
//
// It writes an administrator's kubeconfig, installs the CRDs it is given
// (DefaultCRDs lists Sluice's, Istio's and the Gateway API's) and returns
// once pods can be scheduled:
//
//	crds, err := cluster.DefaultCRDs()
//	...
//	c, err := cluster.Start(ctx, cluster.Options{CRDs: crds, Log: os.Stderr})
//	...
//	defer c.Stop()
//	k8s, err := client.New(c.Config(), client.Options{Scheme: scheme})
//
// The API server is set up for aggregation as kubeadm does it (a front
// proxy CA and client certificate, the requestheader flags), so that a test
// can serve an API group itself: ServeMetrics registers a stand-in for
// metrics-server (metrics.k8s.io/v1beta1, pod CPU and memory from a
// function the test gives) for kube-controller-manager's HPA controller;
// Options.AutoscalerSyncPeriod shortens that controller's period.
//
// The binaries come from the cache hack/tools.sh fills (`make tools`); etcd and
// kube-apiserver come from $KUBEBUILDER_ASSETS when it is set. Each process
// logs to Dir/logs/NAME.log, and an error from Start quotes the end of the
// log of a process that exited. On Linux the kernel kills every process if
// the one that called Start dies without calling Stop.
//
// Measured on two busy cores (TestCluster logs it): Start takes 5 to 11
// seconds, nearly all of it kube-apiserver starting, plus about 7 seconds to
// install DefaultCRDs (Istio's CRDs are large); a Deployment of 3 replicas is
// Available 0.2 to 0.4 seconds after it is created; Stop takes about 1.3
// seconds.
package cluster
