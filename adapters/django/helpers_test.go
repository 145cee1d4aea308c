package django

import (
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/sessioncheck/sessioncheck/adapters/adaptertest"
	"github.com/sessioncheck/sessioncheck/worker"
	"github.com/sessioncheck/sessioncheck/worker/workerstore"
)

// python returns the interpreter that has Django: $SESSIONCHECK_PYTHON, or
// Debian's /usr/bin/python3 (python3-django installs there, not into a
// pyenv). Without Django the test fails under CI=true and is skipped, with
// the reason, elsewhere.
func python(t *testing.T) string {
	t.Helper()
	py := os.Getenv("SESSIONCHECK_PYTHON")
	if py == "" {
		py = "/usr/bin/python3"
	}
	out, err := exec.Command(py, "-c", "import django; print(django.get_version())").CombinedOutput()
	if err != nil {
		msg := "Django is not importable by " + py + " (" + string(out) + "): install it with `apt-get install -y python3-django` or set SESSIONCHECK_PYTHON"
		adaptertest.Missing(t, msg)
	}
	return py
}

func workerArgv(t *testing.T, mode string) []string {
	t.Helper()
	script, err := filepath.Abs("worker.py")
	if err != nil {
		t.Fatal(err)
	}
	return []string{python(t), script, "--mode=" + mode}
}

func pool(t *testing.T, mode string) *workerstore.Pool {
	t.Helper()
	p := workerstore.New(workerArgv(t, mode), worker.Options{Timeout: 20 * time.Second})
	t.Cleanup(func() {
		if err := p.Close(); err != nil {
			t.Errorf("closing the worker: %v", err)
		}
	})
	return p
}
