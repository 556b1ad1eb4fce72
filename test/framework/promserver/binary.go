package promserver

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
)

// BinaryEnv names the environment variable holding the path of the
// Prometheus binary.
const BinaryEnv = "SLUICE_PROMETHEUS"

// errMissing tells how to get the binary; it ends every lookup failure.
var errMissing = errors.New("run `make tools` (or hack/tools.sh prometheus) to install it, or set " + BinaryEnv)

// Binary returns the path of the Prometheus binary: $SLUICE_PROMETHEUS when
// set, else what `hack/tools.sh path prometheus` prints, the script being found
// in the nearest directory above the working directory that holds it.
func Binary() (string, error) {
	if path := os.Getenv(BinaryEnv); path != "" {
		if err := checkExecutable(path); err != nil {
			return "", fmt.Errorf("%s=%s: %w; %w", BinaryEnv, path, err, errMissing)
		}
		return path, nil
	}
	script, err := findToolsScript()
	if err != nil {
		return "", fmt.Errorf("find the Prometheus binary: %w; %w", err, errMissing)
	}
	var stderr bytes.Buffer
	cmd := exec.Command("bash", script, "path", "prometheus")
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	path := strings.TrimSpace(string(out))
	if err != nil {
		return "", fmt.Errorf("no Prometheus binary is installed (%s path prometheus: %w %s); %w",
			script, err, strings.TrimSpace(stderr.String()), errMissing)
	}
	if path == "" {
		return "", fmt.Errorf("no Prometheus binary is installed (%s path prometheus printed nothing); %w", script, errMissing)
	}
	if err := checkExecutable(path); err != nil {
		return "", fmt.Errorf("prometheus binary %s: %w; %w", path, err, errMissing)
	}
	return path, nil
}

// findToolsScript walks up from the working directory to hack/tools.sh.
func findToolsScript() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", fmt.Errorf("get working directory: %w", err)
	}
	for {
		script := filepath.Join(dir, "hack", "tools.sh")
		if _, err := os.Stat(script); err == nil {
			return script, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("hack/tools.sh not found above the working directory")
		}
		dir = parent
	}
}

// checkExecutable reports whether path is a file that can be run.
func checkExecutable(path string) error {
	info, err := os.Stat(path)
	if err != nil {
		return fmt.Errorf("stat: %w", err)
	}
	if info.IsDir() || info.Mode().Perm()&0o111 == 0 {
		return errors.New("not an executable file")
	}
	return nil
}
