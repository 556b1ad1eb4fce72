package packaging

import (
	"bufio"
	"debug/elf"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
)

// dockerfile is what the tests read of the Dockerfile.
type dockerfile struct {
	// build is the RUN line of the build stage that runs `go build`.
	build string
	// copied are the source directories copied into the build stage.
	copied []string
	// finalFrom is the base image of the last stage; finalUser its USER.
	finalFrom, finalUser string
}

func readDockerfile(t testing.TB) dockerfile {
	t.Helper()
	f, err := os.Open(filepath.Join(root(t), "Dockerfile"))
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = f.Close() }()
	var d dockerfile
	stage := 0
	s := bufio.NewScanner(f)
	for s.Scan() {
		fields := strings.Fields(s.Text())
		if len(fields) < 2 || strings.HasPrefix(fields[0], "#") {
			continue
		}
		switch strings.ToUpper(fields[0]) {
		case "FROM":
			stage++
			d.finalFrom, d.finalUser = fields[1], ""
		case "USER":
			d.finalUser = fields[1]
		case "RUN":
			if strings.Contains(s.Text(), "go build") {
				d.build = strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(s.Text()), "RUN"))
			}
		case "COPY":
			if stage == 1 && !strings.HasPrefix(fields[1], "--") {
				d.copied = append(d.copied, fields[1:len(fields)-1]...)
			}
		}
	}
	if err := s.Err(); err != nil {
		t.Fatal(err)
	}
	if d.build == "" {
		t.Fatal("the Dockerfile has no RUN line with `go build`")
	}
	return d
}

// manager is the binary built as the Dockerfile builds it, shared by tests.
var manager struct {
	once sync.Once
	path string
	err  error
}

// buildAsDockerfile runs the Dockerfile's `go build` line (its environment,
// flags and package) on the host, writing the binary to a temporary
// directory instead of the image's /out.
func buildAsDockerfile(t testing.TB) string {
	t.Helper()
	d, dir := readDockerfile(t), root(t)
	manager.once.Do(func() {
		var env, args []string
		words := shellWords(d.build)
		for len(words) > 0 && regexp.MustCompile(`^[A-Z_]+=`).MatchString(words[0]) {
			env = append(env, words[0])
			words = words[1:]
		}
		if len(words) < 2 || words[0] != "go" || words[1] != "build" {
			manager.err = fmt.Errorf("the Dockerfile's build line %q is not `[ENV=...] go build ...`", d.build)
			return
		}
		out, err := os.MkdirTemp("", "sluice-manager-")
		if err != nil {
			manager.err = err
			return
		}
		manager.path = filepath.Join(out, "manager")
		for i := 2; i < len(words); i++ {
			if words[i] == "-o" && i+1 < len(words) {
				args = append(args, "-o", manager.path)
				i++
				continue
			}
			args = append(args, words[i])
		}
		cmd := exec.Command("go", append([]string{"build"}, args...)...)
		cmd.Dir = dir
		cmd.Env = append(os.Environ(), env...)
		if out, err := cmd.CombinedOutput(); err != nil {
			manager.err = fmt.Errorf("go build %v with %v: %w\n%s", args, env, err, out)
		}
	})
	if manager.err != nil {
		t.Fatal(manager.err)
	}
	return manager.path
}

func TestDockerfileBuildsAStaticBinary(t *testing.T) {
	t.Parallel()
	d := readDockerfile(t)
	for _, want := range []string{"CGO_ENABLED=0", "-trimpath", "-s -w"} {
		if !strings.Contains(d.build, want) {
			t.Errorf("the Dockerfile's build line %q lacks %s", d.build, want)
		}
	}
	f, err := elf.Open(buildAsDockerfile(t))
	if err != nil {
		t.Fatalf("the build did not produce an ELF binary: %v", err)
	}
	defer func() { _ = f.Close() }()
	for _, p := range f.Progs {
		if p.Type == elf.PT_INTERP {
			t.Error("the binary has a program interpreter (PT_INTERP): it is dynamically linked and will not start on an empty base image")
		}
	}
	if libs, err := f.ImportedLibraries(); err != nil || len(libs) > 0 {
		t.Errorf("the binary needs shared libraries (DT_NEEDED) %v (err %v)", libs, err)
	}
	if f.Section(".symtab") != nil {
		t.Error("the binary has a symbol table: -ldflags=-s did not apply")
	}
}

// TestDockerfileRunsAsNonRootOnAMinimalBase checks the final stage: a
// minimal base named without a registry host, and a numeric non-root USER
// (runAsNonRoot can only verify a numeric one).
func TestDockerfileRunsAsNonRootOnAMinimalBase(t *testing.T) {
	t.Parallel()
	d := readDockerfile(t)
	user, _, _ := strings.Cut(d.finalUser, ":")
	if !regexp.MustCompile(`^[0-9]+$`).MatchString(user) || user == "0" {
		t.Errorf("the final stage's USER is %q; want a numeric non-root user such as 65532:65532", d.finalUser)
	}
	if first, _, ok := strings.Cut(d.finalFrom, "/"); ok && (strings.ContainsAny(first, ".:") || first == "localhost") {
		t.Errorf("the final base image %q names a registry host; name the image only", d.finalFrom)
	}
	if d.finalFrom != "scratch" && !strings.Contains(d.finalFrom, "distroless/static") {
		t.Errorf("the final base image %q is not minimal (scratch or a distroless static image)", d.finalFrom)
	}
}

// TestDockerfileCopiesEverySourcePackage checks that the build stage copies
// every directory of this module that the manager imports: a new top-level
// package would otherwise build here and fail in the image.
func TestDockerfileCopiesEverySourcePackage(t *testing.T) {
	t.Parallel()
	d := readDockerfile(t)
	cmd := exec.Command("go", "list", "-deps", "-f", "{{if not .Standard}}{{.ImportPath}}{{end}}", "./cmd")
	cmd.Dir = root(t)
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	const module = "github.com/sluice-dev/sluice/"
	for _, pkg := range strings.Fields(string(out)) {
		rel, ok := strings.CutPrefix(pkg, module)
		if !ok {
			continue
		}
		if !slices.ContainsFunc(d.copied, func(c string) bool {
			return strings.HasPrefix(rel+"/", strings.TrimSuffix(c, "/")+"/")
		}) {
			t.Errorf("the manager imports %s but the Dockerfile copies only %v", pkg, d.copied)
		}
	}
}

// TestChartArgsAreManagerFlags checks every flag the chart and config/default
// pass the manager against the flags the built manager accepts.
func TestChartArgsAreManagerFlags(t *testing.T) {
	t.Parallel()
	help, _ := exec.Command(buildAsDockerfile(t), "--help").CombinedOutput()
	if !strings.Contains(string(help), "-leader-elect") {
		t.Fatalf("`manager --help` printed no flags:\n%s", help)
	}
	objs := append(render(t, "-f", valuesFile(t, nonDefaultValues)), kustomize(t, "config/default")...)
	for _, o := range ofKind(objs, "Deployment") {
		d := typed[appsv1.Deployment](t, o)
		for _, arg := range d.Spec.Template.Spec.Containers[0].Args {
			name, _, _ := strings.Cut(strings.TrimLeft(arg, "-"), "=")
			if !regexp.MustCompile(`(?m)^\s+-` + regexp.QuoteMeta(name) + `\b`).Match(help) {
				t.Errorf("%s passes %s, which the manager does not accept", o.GetName(), arg)
			}
		}
	}
}

// shellWords splits a shell command line into words as sh does for the
// simple lines of a Dockerfile: on blanks, with single and double quotes
// grouping (and removed).
func shellWords(line string) []string {
	var words []string
	var word strings.Builder
	var quote rune
	inWord := false
	for _, r := range line {
		switch {
		case quote != 0 && r == quote:
			quote = 0
		case quote != 0:
			word.WriteRune(r)
		case r == '"' || r == '\'':
			quote, inWord = r, true
		case r == ' ' || r == '\t':
			if inWord {
				words = append(words, word.String())
				word.Reset()
				inWord = false
			}
		default:
			word.WriteRune(r)
			inWord = true
		}
	}
	if inWord {
		words = append(words, word.String())
	}
	return words
}

func TestShellWords(t *testing.T) {
	t.Parallel()
	got := shellWords(`CGO_ENABLED=0 go build -ldflags="-s -w" -o '/out/my manager' ./cmd`)
	want := []string{"CGO_ENABLED=0", "go", "build", "-ldflags=-s -w", "-o", "/out/my manager", "./cmd"}
	if !slices.Equal(got, want) {
		t.Errorf("shellWords = %q, want %q", got, want)
	}
}
