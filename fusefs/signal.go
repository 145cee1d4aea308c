package fusefs

import (
	"os"
	"os/signal"
	"sync"
	"syscall"
)

// live holds every mounted server of this process, so that an interrupt
// or a termination signal unmounts them before the process dies: a mount
// whose server is gone stays behind, answering ENOTCONN.
var live struct {
	sync.Mutex
	servers map[*Server]bool
	once    sync.Once
}

func track(s *Server) {
	live.once.Do(func() {
		ch := make(chan os.Signal, 1)
		signal.Notify(ch, syscall.SIGINT, syscall.SIGTERM, syscall.SIGHUP)
		go func() {
			sig := <-ch
			live.Lock()
			servers := make([]*Server, 0, len(live.servers))
			for s := range live.servers {
				servers = append(servers, s)
			}
			live.Unlock()
			for _, s := range servers {
				s.Close()
			}
			// Die of the signal, as the process would have without us.
			signal.Reset(sig)
			syscall.Kill(os.Getpid(), sig.(syscall.Signal))
		}()
	})
	live.Lock()
	defer live.Unlock()
	if live.servers == nil {
		live.servers = map[*Server]bool{}
	}
	live.servers[s] = true
}

func untrack(s *Server) {
	live.Lock()
	defer live.Unlock()
	delete(live.servers, s)
}
