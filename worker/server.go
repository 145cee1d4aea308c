package worker

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"slices"

	"github.com/sessioncheck/sessioncheck/model"
)

// OpenFunc opens a store for one history. It is called for every open
// request; the previous store, if it implements io.Closer, is closed first.
type OpenFunc func(cfg Config) (model.Store, error)

// Server serves one store over the worker protocol.
type Server struct {
	// Name is the worker's name in its hello response, e.g. "go/reference".
	Name string
	// Open opens the store for an open request.
	Open OpenFunc
	// Features are declared in the hello response. Declare
	// FeatureKeyPool only if Open honours Config.Keys.
	Features []string
	// Ops, if not empty, are the store operations declared in the hello
	// response, for a store that lacks some (beego's file provider has no
	// ClearExpired the protocol can express); the others are refused with
	// an error response. Empty declares StoreOps.
	Ops []string
}

func (s *Server) ops() []string {
	if len(s.Ops) > 0 {
		return s.Ops
	}
	return StoreOps
}

// Serve serves the store that open opens on r and w until r ends, declaring
// the key-pool feature (open must honour Config.Keys). It returns nil at the
// end of r and an error only when r or w fails: a bad line is answered with
// an error response, never fatal.
func Serve(r io.Reader, w io.Writer, name string, open OpenFunc) error {
	s := &Server{Name: name, Open: open, Features: []string{FeatureKeyPool}}
	return s.Serve(r, w)
}

// Serve serves requests from r, writing responses to w, until r ends.
func (s *Server) Serve(r io.Reader, w io.Writer) error {
	br := bufio.NewReaderSize(r, 64<<10)
	bw := bufio.NewWriter(w)
	st := &serverState{srv: s}
	defer st.close()
	for lineNo := 1; ; lineNo++ {
		line, tooLong, err := readLine(br)
		if len(line) > 0 || tooLong {
			var resp Response
			if tooLong {
				resp = Response{Error: fmt.Sprintf("line %d: longer than %d bytes", lineNo, MaxLine)}
			} else {
				resp = st.handle(lineNo, line)
			}
			out, merr := Encode(resp)
			if merr != nil { // cannot happen for these types; say so rather than die
				out, _ = Encode(Response{ID: resp.ID, Error: "encoding response: " + merr.Error()})
			}
			if _, werr := bw.Write(out); werr != nil {
				return werr
			}
			if werr := bw.Flush(); werr != nil {
				return werr
			}
		}
		if err == io.EOF {
			return st.close()
		}
		if err != nil {
			return err
		}
	}
}

// readLine reads one line of at most MaxLine bytes. A longer line is consumed
// and reported with tooLong; line is then nil.
func readLine(br *bufio.Reader) (line []byte, tooLong bool, err error) {
	for {
		frag, err := br.ReadSlice('\n')
		if len(line)+len(frag) > MaxLine {
			tooLong = true
			line = nil
		} else if !tooLong {
			line = append(line, frag...)
		}
		if err == bufio.ErrBufferFull {
			continue
		}
		return line, tooLong, err
	}
}

type serverState struct {
	srv    *Server
	hello  bool
	store  model.Store
	opened bool
}

func (st *serverState) close() error {
	var err error
	if c, ok := st.store.(io.Closer); ok {
		err = c.Close()
	}
	st.store, st.opened = nil, false
	return err
}

func (st *serverState) handle(lineNo int, line []byte) (resp Response) {
	req, err := DecodeRequest(line)
	resp.ID = req.ID
	if err != nil {
		resp.Error = fmt.Sprintf("line %d: %v", lineNo, err)
		return resp
	}
	defer func() {
		// A store that panics must not kill the worker: the driver gets the
		// panic as a failed outcome and the next line is served.
		if p := recover(); p != nil {
			resp = Response{ID: req.ID, Outcome: model.Failed.String(), Message: fmt.Sprintf("panic in store: %v", p)}
		}
	}()
	switch req.Op {
	case OpHello:
		if req.Version < 1 {
			resp.Error = fmt.Sprintf("hello: version %d: this worker speaks version %d", req.Version, Version)
			return resp
		}
		st.hello = true
		resp.Outcome = model.OK.String()
		resp.Protocol = Protocol
		resp.Version = min(req.Version, Version)
		resp.Name = st.srv.Name
		resp.Ops = slices.Clone(st.srv.ops())
		resp.Features = slices.Clone(st.srv.Features)
		return resp
	case OpOpen:
		if !st.hello {
			resp.Error = "open before hello: send hello first"
			return resp
		}
		cfg, err := configOf(req)
		if err != nil {
			resp.Error = "open: " + err.Error()
			return resp
		}
		if err := st.close(); err != nil {
			resp.Error = "open: closing the previous store: " + err.Error()
			return resp
		}
		store, err := st.srv.Open(cfg)
		if err != nil {
			resp.Error = "open: " + err.Error()
			return resp
		}
		st.store, st.opened = store, true
		resp.Outcome = model.OK.String()
		return resp
	}
	kind, ok := KindOf(req.Op)
	if !ok {
		resp.Error = fmt.Sprintf("unknown op %q", req.Op)
		return resp
	}
	if !slices.Contains(st.srv.ops(), req.Op) {
		resp.Error = fmt.Sprintf("op %q is not supported by this worker", req.Op)
		return resp
	}
	if !st.opened {
		resp.Error = "no store is open: send hello and open first"
		return resp
	}
	if err := storeOp(st.store, kind, req, &resp); err != nil {
		resp.Error = err.Error()
	}
	return resp
}

func configOf(req Request) (Config, error) {
	if req.Dir == "" {
		return Config{}, errors.New(`missing "dir"`)
	}
	if req.Now == "" {
		return Config{}, errors.New(`missing "now"`)
	}
	now, err := ParseTime("now", req.Now)
	if err != nil {
		return Config{}, err
	}
	return Config{Dir: req.Dir, Now: now, Secret: req.Secret, Keys: slices.Clone(req.Keys)}, nil
}

// storeOp runs one store operation. A returned error is a protocol error
// (a missing field); store errors become outcomes in resp.
func storeOp(s model.Store, kind model.Kind, req Request, resp *Response) error {
	needExpiry := func() (err error) {
		if req.Expiry == "" {
			return fmt.Errorf("%s: missing \"expiry\"", kind)
		}
		_, err = ParseTime("expiry", req.Expiry)
		return err
	}
	switch kind {
	case model.OpCreate, model.OpSave, model.OpTouch:
		if err := needExpiry(); err != nil {
			return err
		}
	}
	expiry, _ := ParseTime("expiry", req.Expiry)
	values := model.NewValues(req.Values)
	var err error
	switch kind {
	case model.OpCreate:
		resp.Key, err = s.Create(values, expiry)
	case model.OpLoad:
		var rec model.Record
		if rec, err = s.Load(req.Key); err == nil {
			resp.Record = RecordToJSON(rec)
		}
	case model.OpSave:
		err = s.Save(req.Key, values, expiry)
	case model.OpTouch:
		err = s.Touch(req.Key, expiry)
	case model.OpDelete:
		err = s.Delete(req.Key)
	case model.OpExists:
		var ok bool
		if ok, err = s.Exists(req.Key); err == nil {
			resp.Exists = &ok
		}
	case model.OpCycle:
		resp.Key, err = s.Cycle(req.Key)
	case model.OpClearExpired:
		var removed []string
		if removed, err = s.ClearExpired(); err == nil {
			resp.Removed = removed
			if resp.Removed == nil {
				resp.Removed = []string{}
			}
		}
	}
	resp.Outcome, resp.Message = ErrorFor(err)
	if err != nil {
		resp.Key, resp.Record, resp.Exists, resp.Removed = "", nil, nil, nil
	}
	return nil
}
