package bench

import (
	"bufio"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sessioncheck/sessioncheck/impl/variants"
	"github.com/sessioncheck/sessioncheck/model"
	"github.com/sessioncheck/sessioncheck/worker"
)

// The peer benchmarks time the reference and its peers on the same work in
// the same run, every store behind the same JSON-lines pipe and the same
// driver (worker.Client), one sequential client each:
//
//	go-durable     the reference, through the Go worker (this test binary
//	               re-executed as a worker)
//	go-nondurable  the no-fsync variant (the reference minus its fsyncs),
//	               through the Go worker: the fair comparison with peers that
//	               never fsync
//	django         Django's file backend (Debian's python3-django) through
//	               adapters/django/worker.py
//	gorilla        gorilla/sessions' FilesystemStore through adapters/gorilla
//	go-inproc      the no-fsync variant called in process, no pipe: how much
//	               of every figure above is the pipe
//	django-inproc  Django's file backend called in process by
//	               bench/django_inproc.py, which runs each block of the
//	               workload itself and times it (no pipe per operation)
//
// A peer that cannot run here (Django not importable, the gorilla adapter not
// in the tree) is left out with the reason logged; the others still run.
// The peers take turns in blocks of peerBlock operations, the first peer of
// each round rotating, so that all of them see the same machine.
//
// Metrics: <peer>-ns/op for each peer that ran, and x-<peer> = the peer's
// ns/op divided by go-nondurable's (how many times faster the reference is,
// both without fsync), except x-django-inproc, which is divided by
// go-inproc's (both in process, no pipe).

const peerBlock = 16

// peerWorkloads are the work every peer does. mix is the linearizability
// checker's default mix without cycle and clear-expired (3 create, 6 load,
// 6 save, 2 touch, 2 delete, 2 exists in 21 operations).
var peerWorkloads = []string{"mix", "load", "save", "touch", "create", "delete"}

var mixSeq = []model.Kind{
	model.OpCreate, model.OpLoad, model.OpSave, model.OpLoad, model.OpTouch, model.OpExists, model.OpSave,
	model.OpLoad, model.OpDelete, model.OpSave, model.OpCreate, model.OpLoad, model.OpExists, model.OpSave,
	model.OpTouch, model.OpLoad, model.OpSave, model.OpCreate, model.OpDelete, model.OpLoad, model.OpSave,
}

var peerNames = []string{"go-durable", "go-nondurable", "django", "gorilla", "go-inproc", "django-inproc"}

// peer is one store under test in a peer benchmark.
type peer struct {
	name  string
	store model.Store
	keys  []string // live keys this peer created
	ns    int64
	done  int
	// block, if set, runs the next n operations of the workload itself and
	// returns the nanoseconds it measured (django-inproc); otherwise the
	// benchmark calls store and times it.
	block func(n int) (int64, error)
}

// peerNow is the fixed clock given to every worker.
var peerNow = time.Now().UTC().Truncate(time.Second)

func pythonWithDjango() (string, error) {
	py := os.Getenv("SESSIONCHECK_PYTHON")
	if py == "" {
		py = "/usr/bin/python3"
	}
	if out, err := exec.Command(py, "-c", "import django").CombinedOutput(); err != nil {
		return "", fmt.Errorf("Django is not importable by %s (%v: %s); apt-get install -y python3-django or set SESSIONCHECK_PYTHON", py, err, strings.TrimSpace(string(out)))
	}
	return py, nil
}

var gorillaBuild struct {
	once sync.Once
	path string
	err  error
}

// gorillaWorker builds adapters/gorilla (its own module) once per run.
func gorillaWorker() (string, error) {
	gorillaBuild.once.Do(func() {
		src, err := filepath.Abs(filepath.Join("..", "adapters", "gorilla"))
		if err != nil {
			gorillaBuild.err = err
			return
		}
		if _, err := os.Stat(filepath.Join(src, "go.mod")); err != nil {
			gorillaBuild.err = fmt.Errorf("the gorilla adapter is not in the tree (%v)", err)
			return
		}
		dir, err := os.MkdirTemp("", "sessioncheck-bench-gorilla-*")
		if err != nil {
			gorillaBuild.err = err
			return
		}
		out := filepath.Join(dir, "gorilla-worker")
		cmd := exec.Command("go", "build", "-o", out, "./cmd/gorilla-worker")
		cmd.Dir = src
		if msg, err := cmd.CombinedOutput(); err != nil {
			gorillaBuild.err = fmt.Errorf("building adapters/gorilla: %v: %s", err, strings.TrimSpace(string(msg)))
			return
		}
		gorillaBuild.path = out
	})
	return gorillaBuild.path, gorillaBuild.err
}

// peerArgv returns the worker command of a peer (nil for go-inproc).
func peerArgv(name string) ([]string, []string, error) {
	self, err := os.Executable()
	if err != nil {
		return nil, nil, err
	}
	switch name {
	case "go-durable":
		return []string{self}, append(os.Environ(), workerEnv+"=reference"), nil
	case "go-nondurable":
		return []string{self}, append(os.Environ(), workerEnv+"=no-fsync"), nil
	case "django":
		py, err := pythonWithDjango()
		if err != nil {
			return nil, nil, err
		}
		script, err := filepath.Abs(filepath.Join("..", "adapters", "django", "worker.py"))
		if err != nil {
			return nil, nil, err
		}
		return []string{py, script, "--mode=shipped"}, nil, nil
	case "gorilla":
		bin, err := gorillaWorker()
		if err != nil {
			return nil, nil, err
		}
		return []string{bin}, nil, nil
	}
	return nil, nil, fmt.Errorf("unknown peer %q", name)
}

// peerDir returns a fresh directory for one peer: under
// $SESSIONCHECK_PEER_DIR when set (run.sh runs the peers a second time on
// tmpfs, where a rename that replaces a file does not wait for the disk, to
// show the stores' own costs), else where benchDir puts it.
func peerDir(b *testing.B) string {
	root := os.Getenv("SESSIONCHECK_PEER_DIR")
	if root == "" {
		return benchDir(b)
	}
	return tempDir(b, root, "sessioncheck-peer-*")
}

// startPeer opens the peer over a fresh directory.
func startPeer(b *testing.B, name string) (*peer, error) {
	dir := peerDir(b)
	if name == "go-inproc" {
		v, _ := variants.Lookup("no-fsync")
		now := peerNow
		st, err := v.Open(dir, implOptions(func() time.Time { return now }))
		if err != nil {
			return nil, err
		}
		return &peer{name: name, store: st}, nil
	}
	argv, env, err := peerArgv(name)
	if err != nil {
		return nil, err
	}
	c, err := worker.Start(argv, worker.Options{Timeout: time.Minute, Env: env})
	if err != nil {
		return nil, err
	}
	b.Cleanup(func() {
		if err := c.Close(); err != nil {
			b.Errorf("closing %s: %v", name, err)
		}
	})
	if err := c.Open(worker.Config{Dir: dir, Now: peerNow, Secret: string(secret)}); err != nil {
		return nil, err
	}
	return &peer{name: name + "", store: c.Store()}, nil
}

// BenchmarkPeers times every peer on every workload, 1 KiB and 64 KiB of
// values per write.
func BenchmarkPeers(b *testing.B) {
	for _, wl := range peerWorkloads {
		b.Run(wl, func(b *testing.B) {
			for _, size := range Sizes {
				b.Run(SizeName(size), func(b *testing.B) { benchPeers(b, wl, size) })
			}
		})
	}
}

func benchPeers(b *testing.B, wl string, size int) {
	// Incompressible-ish text (seeded, [a-z0-9]): Django compresses session
	// data before signing it, and a run of one letter would let it write a
	// few hundred bytes where the others write the whole value.
	data := randomText(size)
	values := model.NewValues(map[string]string{"data": data})
	expiry := peerNow.Add(time.Hour)
	var peers []*peer
	for _, name := range peerNames {
		if name == "django-inproc" {
			p, err := startDjangoInproc(b, wl, data)
			if err != nil {
				b.Logf("peer %s left out: %v", name, err)
				continue
			}
			peers = append(peers, p)
			continue
		}
		p, err := startPeer(b, name)
		if err != nil {
			b.Logf("peer %s left out: %v", name, err)
			continue
		}
		// Every workload starts from 64 live sessions; delete from one per
		// iteration.
		n := 64
		if wl == "delete" {
			n = b.N
		}
		var err2 error
		for range n {
			k, err := p.store.Create(values, expiry)
			if err != nil {
				err2 = err
				break
			}
			p.keys = append(p.keys, k)
		}
		if err2 != nil {
			// A peer that refuses the work (gorilla's FilesystemStore
			// limits an encoded session to 4096 bytes by default) is left
			// out of this case, not of the run.
			b.Logf("peer %s left out: create: %v", name, err2)
			continue
		}
		peers = append(peers, p)
	}
	if len(peers) == 0 {
		b.Fatal("no peer could run")
	}
	op := func(p *peer, i int) error {
		kind := map[string]model.Kind{"load": model.OpLoad, "save": model.OpSave, "touch": model.OpTouch,
			"create": model.OpCreate, "delete": model.OpDelete}[wl]
		if wl == "mix" {
			kind = mixSeq[i%len(mixSeq)]
		}
		var err error
		switch kind {
		case model.OpCreate:
			var k string
			if k, err = p.store.Create(values, expiry); err == nil && wl == "mix" {
				p.keys = append(p.keys, k)
			}
		case model.OpLoad:
			var rec model.Record
			if rec, err = p.store.Load(p.keys[i%len(p.keys)]); err == nil && rec.Values != values {
				err = errors.New("load returned other values than were saved")
			}
		case model.OpSave:
			err = p.store.Save(p.keys[i%len(p.keys)], values, expiry)
		case model.OpTouch:
			err = p.store.Touch(p.keys[i%len(p.keys)], expiry)
		case model.OpExists:
			var ok bool
			if ok, err = p.store.Exists(p.keys[i%len(p.keys)]); err == nil && !ok {
				err = errors.New("exists: a live session is not there")
			}
		case model.OpDelete:
			j := i % len(p.keys)
			if wl == "delete" {
				j = len(p.keys) - 1
			}
			err = p.store.Delete(p.keys[j])
			p.keys[j] = p.keys[len(p.keys)-1]
			p.keys = p.keys[:len(p.keys)-1]
		}
		if err != nil {
			return fmt.Errorf("%s: %v #%d: %w", p.name, kind, i, err)
		}
		return nil
	}
	b.ResetTimer()
	for round := 0; ; round++ {
		busy := false
		for j := range peers {
			p := peers[(round+j)%len(peers)]
			if p.done >= b.N {
				continue
			}
			busy = true
			if p.block != nil {
				n := min(peerBlock, b.N-p.done)
				ns, err := p.block(n)
				if err != nil {
					b.Fatalf("%s: %v", p.name, err)
				}
				p.ns += ns
				p.done += n
				continue
			}
			t0 := time.Now()
			for k := 0; k < peerBlock && p.done < b.N; k++ {
				if err := op(p, p.done); err != nil {
					b.Fatal(err)
				}
				p.done++
			}
			p.ns += int64(time.Since(t0))
		}
		if !busy {
			break
		}
	}
	b.StopTimer()
	var base, inproc float64
	for _, p := range peers {
		switch p.name {
		case "go-nondurable":
			base = float64(p.ns)
		case "go-inproc":
			inproc = float64(p.ns)
		}
	}
	for _, p := range peers {
		b.ReportMetric(float64(p.ns)/float64(b.N), p.name+"-ns/op")
		switch {
		case p.name == "django-inproc" && inproc > 0:
			b.ReportMetric(float64(p.ns)/inproc, "x-"+p.name)
		case p.name != "django-inproc" && p.name != "go-nondurable" && base > 0:
			b.ReportMetric(float64(p.ns)/base, "x-"+p.name)
		}
	}
}

// startDjangoInproc starts bench/django_inproc.py over a fresh directory,
// seeded like the other peers (64 sessions, or b.N for delete).
func startDjangoInproc(b *testing.B, wl string, data string) (*peer, error) {
	py, err := pythonWithDjango()
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(py, "django_inproc.py")
	stdin, err := cmd.StdinPipe()
	if err != nil {
		return nil, err
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	var stderr strings.Builder
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	b.Cleanup(func() {
		stdin.Close()
		if err := cmd.Wait(); err != nil {
			b.Errorf("django_inproc.py: %v: %s", err, stderr.String())
		}
	})
	out := bufio.NewReader(stdout)
	say := func(format string, args ...any) (string, error) {
		if _, err := fmt.Fprintf(stdin, format+"\n", args...); err != nil {
			return "", fmt.Errorf("django_inproc.py: %v: %s", err, stderr.String())
		}
		line, err := out.ReadString('\n')
		if err != nil {
			return "", fmt.Errorf("django_inproc.py: %v: %s", err, stderr.String())
		}
		line = strings.TrimSpace(line)
		if !strings.HasPrefix(line, "ok") {
			return "", fmt.Errorf("django_inproc.py: %s", line)
		}
		return strings.TrimSpace(strings.TrimPrefix(line, "ok")), nil
	}
	preseed := 64
	if wl == "delete" {
		preseed = b.N
	}
	if _, err := say("open %s %s %d %s", peerDir(b), wl, preseed, data); err != nil {
		return nil, err
	}
	return &peer{name: "django-inproc", block: func(n int) (int64, error) {
		s, err := say("run %d", n)
		if err != nil {
			return 0, err
		}
		return strconv.ParseInt(s, 10, 64)
	}}, nil
}

// randomText returns n characters of [a-z0-9] from a fixed seed.
func randomText(n int) string {
	r := rand.New(rand.NewPCG(1, uint64(n)))
	b := make([]byte, n)
	for i := range b {
		b[i] = model.KeyAlphabet[r.IntN(len(model.KeyAlphabet))]
	}
	return string(b)
}
