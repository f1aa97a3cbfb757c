package server

import (
	"net"
	"net/http"
	"sync"
	"time"

	"github.com/kubeinfer/kubeinfer/worker/engine"
	"github.com/kubeinfer/kubeinfer/worker/tokenizer"
)

// Defaults of the limits a Config leaves at zero.
const (
	// DefaultReadHeaderTimeout is the time a client has to send its request
	// line and headers.
	DefaultReadHeaderTimeout = 10 * time.Second
	// DefaultReadTimeout is the time a client has to send a request body once
	// the server starts reading it: a body of MaxRequestBytes must arrive at
	// MaxRequestBytes/30 s or faster.
	DefaultReadTimeout = 30 * time.Second
	// DefaultWriteTimeout is the time each write of a response (a whole
	// response, or one streamed chunk) may take: a client that stops reading
	// is cut, a long stream that keeps being read is not.
	DefaultWriteTimeout = 30 * time.Second
	// DefaultIdleTimeout is how long a keep-alive connection waits for its
	// next request.
	DefaultIdleTimeout = 2 * time.Minute

	// bytesPerContextToken sizes the default body cap: a prompt that fills the
	// context rarely needs more than 4 bytes of text per token, 6 when a client
	// escapes every non-ASCII character as \uXXXX; 16 leaves room for
	// whitespace-heavy text and message framing.
	bytesPerContextToken = 16
	// requestOverheadBytes is the rest of a request around its prompt: the
	// other fields, stop sequences, a chat's roles and structure.
	requestOverheadBytes = 64 << 10
	// maxHeaderBytes caps a request's headers (net/http allows 1 MB).
	maxHeaderBytes = 64 << 10

	// requestBytesFactor bounds the memory a request takes while it is
	// decoded and tokenized, per byte of body: the body, its decoded fields
	// and rendered prompt (a few copies), and the tokenizer's working memory
	// (runes, pre-tokens, BPE symbols and merge queue). A chat request that
	// is one long word allocates about 90 bytes per byte in all; doubled for
	// the garbage the collector has not reclaimed yet, and rounded up.
	// TestAbuseMemoryBound measures the server against it.
	requestBytesFactor = 256
	// tokenBytes bounds the memory of one prompt or generated token of a
	// request, from admission to its response: its id, its event and text.
	tokenBytes = 256
	// connectionBytes bounds an open connection: its headers, read and write
	// buffers and goroutine.
	connectionBytes = maxHeaderBytes + 64<<10

	// OpenAI's bounds: stop sequences per request, alternatives per token
	// (top_logprobs of chat, logprobs of completions).
	maxStopSequences         = 4
	maxTopLogprobs           = engine.MaxTopLogprobs
	maxCompletionTopLogprobs = 5

	// maxParallelToolCalls bounds the calls of one constrained turn, so a
	// model that keeps choosing another call still ends.
	maxParallelToolCalls = 8

	// maxEmbeddingInputs is OpenAI's bound on the inputs of one embeddings
	// request.
	maxEmbeddingInputs = 2048

	// maxChoices is the most choices (n) one request may ask for; each is a
	// sequence of its own in the scheduler (their prompt's KV blocks shared).
	maxChoices = 16
	// grammarCacheEntries compiled grammars (response formats, tool schemas)
	// are kept for later requests, each with at most grammarCacheBytes of
	// parse states and token masks.
	grammarCacheEntries = 8
	grammarCacheBytes   = 16 << 20
)

// Limits bound what the worker holds at once, whatever its clients send. They
// are computed in one place, Config.limits, from the configuration and the
// model's context length; everything else reads them.
type Limits struct {
	// MaxRequestBytes is the largest request body; a larger one gets 413.
	MaxRequestBytes int64
	// ContextLength is the most tokens of one request, prompt included.
	ContextLength int
	// Intake is how many requests are read, decoded and tokenized at once:
	// the slots plus the queue, all that admission can take. Others wait.
	Intake int
	// MaxConnections is the most open client connections; more wait to be
	// accepted.
	MaxConnections int
	// RequestMemory bounds the memory of one request in intake, and of one
	// admitted request's tokens.
	RequestMemory int64
	// MaxChoices is the most choices (n) of one request.
	MaxChoices int
	// GrammarCacheBytes bounds the parse states and token masks one compiled
	// grammar keeps; GrammarCacheEntries grammars are kept.
	GrammarCacheBytes   int64
	GrammarCacheEntries int
	// MemoryBound is Intake × RequestMemory + MaxConnections × connection
	// memory + the grammar cache: the most that requests add to the worker's
	// memory above the model and its KV cache.
	MemoryBound int64

	ReadHeaderTimeout, ReadTimeout, WriteTimeout, IdleTimeout time.Duration
}

// limits computes the Limits of c for a model of contextLength tokens.
// New has applied the defaults of the slots and queue.
func (c Config) limits(contextLength int) Limits {
	l := Limits{
		MaxChoices:          min(maxChoices, c.MaxConcurrent+c.MaxQueue),
		GrammarCacheBytes:   grammarCacheBytes,
		GrammarCacheEntries: grammarCacheEntries,
		MaxRequestBytes:     c.MaxRequestBytes,
		ContextLength:       contextLength,
		Intake:              c.MaxConcurrent + c.MaxQueue,
		MaxConnections:      c.MaxConnections,
		ReadHeaderTimeout:   orDefault(c.ReadHeaderTimeout, DefaultReadHeaderTimeout),
		ReadTimeout:         orDefault(c.ReadTimeout, DefaultReadTimeout),
		WriteTimeout:        orDefault(c.WriteTimeout, DefaultWriteTimeout),
		IdleTimeout:         orDefault(c.IdleTimeout, DefaultIdleTimeout),
	}
	if l.MaxRequestBytes <= 0 {
		l.MaxRequestBytes = int64(bytesPerContextToken*contextLength + requestOverheadBytes)
	}
	if l.MaxConnections <= 0 {
		// Every admitted request, as many again waiting to be read, and room
		// for probes, metrics and clients being refused.
		l.MaxConnections = 2*l.Intake + 64
	}
	l.RequestMemory = requestBytesFactor*l.MaxRequestBytes + int64(tokenBytes*contextLength)
	l.MemoryBound = int64(l.Intake)*l.RequestMemory + int64(l.MaxConnections)*connectionBytes +
		int64(l.GrammarCacheEntries)*(l.GrammarCacheBytes+grammarSizeBytes)
	return l
}

func orDefault(d, def time.Duration) time.Duration {
	if d > 0 {
		return d
	}
	return def
}

// promptCertainlyTooLong says how many tokens a prompt of n bytes has at
// least, and whether that already fills the context: then the prompt is
// refused without tokenizing it.
func (l Limits) promptCertainlyTooLong(tok *tokenizer.Tokenizer, n int) (minTokens int, tooLong bool) {
	minTokens = tok.MinTokens(n)
	return minTokens, minTokens >= l.ContextLength
}

// HTTPServer returns the http.Server that serves the worker: header and idle
// timeouts here, the body deadline and per-write deadlines in the handlers
// (a server-wide ReadTimeout or WriteTimeout would cut long streams), and
// small headers. Serve it on Listener(ln).
func (s *Server) HTTPServer() *http.Server {
	l := s.conn
	return &http.Server{
		Handler:           s.Handler(),
		ReadHeaderTimeout: l.ReadHeaderTimeout,
		IdleTimeout:       l.IdleTimeout,
		MaxHeaderBytes:    maxHeaderBytes,
	}
}

// Listener wraps ln so that at most Limits.MaxConnections connections are
// open at once; the next one is accepted when one closes.
func (s *Server) Listener(ln net.Listener) net.Listener {
	n := s.conn.MaxConnections
	return &limitListener{Listener: ln, slots: make(chan struct{}, n), closed: make(chan struct{})}
}

// limitListener is a counting semaphore around Accept.
type limitListener struct {
	net.Listener
	slots     chan struct{}
	closed    chan struct{}
	closeOnce sync.Once
}

func (l *limitListener) Accept() (net.Conn, error) {
	select {
	case l.slots <- struct{}{}:
	case <-l.closed:
		return nil, net.ErrClosed
	}
	c, err := l.Listener.Accept()
	if err != nil {
		<-l.slots
		return nil, err
	}
	return &limitConn{Conn: c, release: func() { <-l.slots }}, nil
}

// Close also wakes an Accept waiting for a slot.
func (l *limitListener) Close() error {
	l.closeOnce.Do(func() { close(l.closed) })
	return l.Listener.Close()
}

type limitConn struct {
	net.Conn
	once    sync.Once
	release func()
}

func (c *limitConn) Close() error {
	err := c.Conn.Close()
	c.once.Do(c.release)
	return err
}
