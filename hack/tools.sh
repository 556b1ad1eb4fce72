#!/usr/bin/env bash
# tools.sh builds the real binaries Sluice's tests run against, from the Go module
# proxy, pinned, and caches them by version outside the repository so that a
# fresh clone reuses them. Nothing is rebuilt when it is already in the cache.
#
#   hack/tools.sh envtest      etcd + kube-apiserver; prints the KUBEBUILDER_ASSETS dir
#   hack/tools.sh cluster      envtest + kube-controller-manager + kube-scheduler + kwok
#   hack/tools.sh prometheus   a Prometheus server; prints its path
#   hack/tools.sh helm         helm (for the chart's tests); prints its path
#   hack/tools.sh traefik      Traefik (the Gateway API data plane); prints its path
#   hack/tools.sh path NAME    prints the path of one cached binary (no build)
#
# Everything it builds goes to ${SLUICE_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/sluice}.
# Progress goes to stderr; only the requested path goes to stdout.
set -euo pipefail

ETCD_VERSION="${ETCD_VERSION:-v3.6.16}"
K8S_VERSION="${K8S_VERSION:-v1.36.3}"
KWOK_VERSION="${KWOK_VERSION:-v0.8.0}"
HELM_VERSION="${HELM_VERSION:-v3.22.0}"
# v3.6.12 is the newest Traefik whose whole dependency graph the Go module proxy
# serves when built inside its own module; v3.7.x pins versions that are not served.
TRAEFIK_VERSION="${TRAEFIK_VERSION:-v3.6.12}"

CACHE="${SLUICE_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/sluice}"
STAGING_VERSION="v0${K8S_VERSION#v1}" # v1.36.3 -> v0.36.3
K8S_MINOR="${K8S_VERSION#v1.}"; K8S_MINOR="${K8S_MINOR%%.*}"

ETCD_DIR="$CACHE/etcd-$ETCD_VERSION"
K8S_DIR="$CACHE/kubernetes-$K8S_VERSION"
KWOK_DIR="$CACHE/kwok-$KWOK_VERSION"
ASSETS_DIR="$CACHE/envtest-$K8S_VERSION-etcd-$ETCD_VERSION"
HELM_DIR="$CACHE/helm-$HELM_VERSION"
TRAEFIK_DIR="$CACHE/traefik-$TRAEFIK_VERSION"

# Build flags stay identical between runs so that Go's build cache is reused.
export GOFLAGS="-buildvcs=false -trimpath"
export CGO_ENABLED=0

log() { printf 'tools: %s\n' "$*" >&2; }

# scratch_module DIR MODULE prepares an empty throwaway module to build in.
scratch_module() {
	rm -rf "$1/src"
	mkdir -p "$1/src"
	(cd "$1/src" && go mod init "$2" >/dev/null 2>&1)
}

build_etcd() {
	[[ -x "$ETCD_DIR/etcd" ]] && return 0
	log "building etcd $ETCD_VERSION from the Go module proxy (about 2 minutes on 2 cores, once)"
	local t0=$SECONDS
	scratch_module "$ETCD_DIR" sluice.local/rig/etcd
	# go.etcd.io/etcd/server/v3 is itself package main; `go install pkg@v` is refused
	# because of its replace directives, so it is required from a scratch module.
	cat >"$ETCD_DIR/src/tools.go" <<GO
//go:build tools

package tools

import _ "go.etcd.io/etcd/server/v3"
GO
	(cd "$ETCD_DIR/src" &&
		go get "go.etcd.io/etcd/server/v3@$ETCD_VERSION" >&2 &&
		go mod tidy >&2 &&
		go build -o "$ETCD_DIR/etcd.tmp" go.etcd.io/etcd/server/v3 >&2)
	mv "$ETCD_DIR/etcd.tmp" "$ETCD_DIR/etcd"
	log "etcd $ETCD_VERSION built in $((SECONDS - t0))s"
}

K8S_COMMANDS=(kube-apiserver kube-controller-manager kube-scheduler)

build_kubernetes() {
	local missing=0 c
	for c in "${K8S_COMMANDS[@]}"; do [[ -x "$K8S_DIR/$c" ]] || missing=1; done
	[[ $missing == 0 ]] && return 0
	log "building ${K8S_COMMANDS[*]} $K8S_VERSION from the Go module proxy"
	log "this takes 10-15 minutes and about 2 GB of memory on 2 cores, once; later runs reuse $K8S_DIR"
	local t0=$SECONDS
	scratch_module "$K8S_DIR" sluice.local/rig/kubernetes
	local src="$K8S_DIR/src"
	(cd "$src" && go mod edit -require="k8s.io/kubernetes@$K8S_VERSION")
	# k8s.io/kubernetes points its staging modules at ./staging; replace each with
	# its published release. sample-* modules are examples that are not published.
	local gomod
	gomod="$(cd "$src" && go mod download -json "k8s.io/kubernetes@$K8S_VERSION" | sed -n 's/.*"GoMod": "\(.*\)".*/\1/p')"
	local staging
	staging="$(sed -n 's#^\s*\(k8s.io/[a-z0-9-]*\) => ./staging/.*#\1#p' "$gomod" | grep -v '^k8s.io/sample-')"
	local mod
	for mod in $staging; do
		(cd "$src" && go mod edit -replace="$mod=$mod@$STAGING_VERSION")
	done
	{
		printf '//go:build tools\n\npackage tools\n\nimport (\n'
		for c in "${K8S_COMMANDS[@]}"; do printf '\t_ "k8s.io/kubernetes/cmd/%s"\n' "$c"; done
		printf ')\n'
	} >"$src/tools.go"
	local pkg=k8s.io/component-base/version
	local ldflags="-s -w -X $pkg.gitVersion=$K8S_VERSION -X $pkg.gitMajor=1 -X $pkg.gitMinor=$K8S_MINOR -X $pkg.gitTreeState=clean"
	local pkgs=()
	for c in "${K8S_COMMANDS[@]}"; do pkgs+=("k8s.io/kubernetes/cmd/$c"); done
	(cd "$src" &&
		go mod tidy >&2 &&
		mkdir -p "$K8S_DIR/tmp" &&
		go build -ldflags "$ldflags" -o "$K8S_DIR/tmp/" "${pkgs[@]}" >&2)
	for c in "${K8S_COMMANDS[@]}"; do mv "$K8S_DIR/tmp/$c" "$K8S_DIR/$c"; done
	rmdir "$K8S_DIR/tmp"
	log "kubernetes $K8S_VERSION built in $((SECONDS - t0))s"
}

# build_kwok builds kwok. Its stages (which make pods Ready without a
# kubelet) are not taken from here: test/framework/cluster embeds kwokctl's default
# stage set of the same version.
build_kwok() {
	[[ -x "$KWOK_DIR/kwok" ]] && return 0
	log "building kwok $KWOK_VERSION from the Go module proxy (about 3 minutes, once)"
	local t0=$SECONDS
	mkdir -p "$KWOK_DIR"
	GOBIN="$KWOK_DIR" go install "sigs.k8s.io/kwok/cmd/kwok@$KWOK_VERSION" >&2
	log "kwok $KWOK_VERSION built in $((SECONDS - t0))s"
}

build_helm() {
	[[ -x "$HELM_DIR/helm" ]] && return 0
	log "building helm $HELM_VERSION from the Go module proxy (about 6 minutes on 2 cores, once)"
	local t0=$SECONDS
	mkdir -p "$HELM_DIR"
	GOBIN="$HELM_DIR" go install "helm.sh/helm/v3/cmd/helm@$HELM_VERSION" >&2
	log "helm $HELM_VERSION built in $((SECONDS - t0))s"
}

# build_traefik builds Traefik inside a copy of its own module so that its
# replace directives apply (`go install pkg@version` ignores them).
build_traefik() {
	[[ -x "$TRAEFIK_DIR/traefik" ]] && return 0
	log "building traefik $TRAEFIK_VERSION from the Go module proxy (about 10 minutes on 2 cores, once)"
	local t0=$SECONDS
	mkdir -p "$TRAEFIK_DIR"
	local moddir
	moddir="$(cd "$TRAEFIK_DIR" && GOFLAGS=-mod=mod go mod download -json "github.com/traefik/traefik/v3@$TRAEFIK_VERSION" |
		sed -n 's/.*"Dir": "\(.*\)".*/\1/p')"
	[[ -d "$moddir" ]] || { log "could not download traefik $TRAEFIK_VERSION"; return 1; }
	rm -rf "$TRAEFIK_DIR/src"
	cp -r "$moddir" "$TRAEFIK_DIR/src"
	chmod -R u+w "$TRAEFIK_DIR/src"
	local pkg=github.com/traefik/traefik/v3/pkg/version
	(cd "$TRAEFIK_DIR/src" &&
		go build -ldflags "-s -w -X $pkg.Version=$TRAEFIK_VERSION" -o "$TRAEFIK_DIR/traefik.tmp" ./cmd/traefik >&2)
	mv "$TRAEFIK_DIR/traefik.tmp" "$TRAEFIK_DIR/traefik"
	rm -rf "$TRAEFIK_DIR/src"
	log "traefik $TRAEFIK_VERSION built in $((SECONDS - t0))s"
}

assemble_assets() {
	mkdir -p "$ASSETS_DIR"
	ln -sf "$ETCD_DIR/etcd" "$ASSETS_DIR/etcd"
	ln -sf "$K8S_DIR/kube-apiserver" "$ASSETS_DIR/kube-apiserver"
}

# prometheus prefers Debian's package (seconds to install); it builds Prometheus
# from the Go module proxy only where apt cannot provide it.
PROMETHEUS_MODULE_VERSION="${PROMETHEUS_MODULE_VERSION:-v0.316.0}"
find_prometheus() {
	if [[ -x /usr/bin/prometheus ]]; then echo /usr/bin/prometheus; return 0; fi
	local built="$CACHE/prometheus-$PROMETHEUS_MODULE_VERSION/prometheus"
	if [[ -x "$built" ]]; then echo "$built"; return 0; fi
	return 1
}
install_prometheus() {
	find_prometheus >/dev/null && return 0
	if command -v apt-get >/dev/null && [[ $(id -u) == 0 ]]; then
		log "installing Debian's prometheus package (about 30 seconds)"
		if (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends prometheus) >&2; then
			# The package may start a system service; the tests run their own
			# servers. Stop only that service, never every process named
			# prometheus: other test servers may be running on this machine.
			(systemctl stop prometheus 2>/dev/null || service prometheus stop 2>/dev/null || true) >&2
			return 0
		fi
		log "apt-get could not install prometheus; building it instead"
	fi
	local dir="$CACHE/prometheus-$PROMETHEUS_MODULE_VERSION"
	log "building Prometheus $PROMETHEUS_MODULE_VERSION from the Go module proxy (10-18 minutes, once)"
	mkdir -p "$dir"
	GOBIN="$dir" go install "github.com/prometheus/prometheus/cmd/prometheus@$PROMETHEUS_MODULE_VERSION" >&2
}

case "${1:-}" in
envtest)
	build_etcd
	build_kubernetes
	assemble_assets
	echo "$ASSETS_DIR"
	;;
cluster)
	build_etcd
	build_kubernetes
	build_kwok
	assemble_assets
	echo "$CACHE"
	;;
prometheus)
	install_prometheus
	find_prometheus
	;;
helm)
	build_helm
	echo "$HELM_DIR/helm"
	;;
traefik)
	build_traefik
	echo "$TRAEFIK_DIR/traefik"
	;;
path)
	case "${2:-}" in
	etcd) echo "$ETCD_DIR/etcd" ;;
	kube-apiserver | kube-controller-manager | kube-scheduler) echo "$K8S_DIR/$2" ;;
	kwok) echo "$KWOK_DIR/kwok" ;;
	assets) echo "$ASSETS_DIR" ;;
	prometheus) find_prometheus ;;
	helm) echo "$HELM_DIR/helm" ;;
	traefik) echo "$TRAEFIK_DIR/traefik" ;;
	*) echo "usage: $0 path etcd|kube-apiserver|kube-controller-manager|kube-scheduler|kwok|assets|prometheus|helm|traefik" >&2; exit 2 ;;
	esac
	;;
*)
	echo "usage: $0 envtest|cluster|prometheus|helm|traefik|path NAME" >&2
	exit 2
	;;
esac
