package server

import (
	"errors"
	"fmt"
	"time"

	"github.com/go-logr/logr"

	"github.com/kubeinfer/kubeinfer/worker/chattemplate"
	"github.com/kubeinfer/kubeinfer/worker/engine"
	"github.com/kubeinfer/kubeinfer/worker/model"
	"github.com/kubeinfer/kubeinfer/worker/tokenizer"
)

// Devices --device accepts.
const (
	DeviceAuto = "auto"
	DeviceCPU  = "cpu"
	DeviceCUDA = "cuda"
)

// ErrCUDAUnavailable is returned for --device cuda until a CUDA backend is
// built in.
var ErrCUDAUnavailable = errors.New("CUDA backend not available: this build has only the CPU engine")

// newCUDA is where the CUDA backend plugs in: set it from a file built with
// the CUDA engine. It returns an error wrapping ErrCUDAUnavailable when no
// usable GPU or driver is found.
var newCUDA func(m *model.Model) (engine.Backend, error)

// SelectBackend builds the engine for device: "cuda" must get the GPU,
// "auto" tries it and falls back to the CPU engine, "cpu" is the CPU engine.
func SelectBackend(device string, m *model.Model, log logr.Logger) (engine.Backend, error) {
	switch device {
	case DeviceCPU:
		return engine.NewCPU(m)
	case DeviceCUDA, DeviceAuto:
		if newCUDA != nil {
			b, err := newCUDA(m)
			if err == nil || device == DeviceCUDA {
				return b, err
			}
			log.Info("CUDA backend unavailable, falling back to the CPU engine", "reason", err.Error())
			return engine.NewCPU(m)
		}
		if device == DeviceCUDA {
			return nil, ErrCUDAUnavailable
		}
		log.Info("no CUDA backend in this build, falling back to the CPU engine")
		return engine.NewCPU(m)
	default:
		return nil, fmt.Errorf("unknown device %q: want auto, cpu or cuda", device)
	}
}

// LoadOptions says what to load.
type LoadOptions struct {
	Path   string
	Family model.Family // declared architecture family; empty skips the check
	Device string
	Log    logr.Logger
}

// Load reads the model, builds its tokenizer, chat template and backend.
func Load(o LoadOptions) (*Model, error) {
	start := time.Now()
	m, err := model.Load(o.Path, o.Family)
	if err != nil {
		return nil, err
	}
	tok, err := tokenizer.New(m.Vocab)
	if err != nil {
		m.Close()
		return nil, fmt.Errorf("tokenizer: %w", err)
	}
	src, _ := m.File.Get(chattemplate.MetadataKey)
	source, _ := src.String()
	tpl, err := chattemplate.New(source, tok.TokenText(tok.BOS()), tok.TokenText(tok.EOS()))
	if err != nil {
		o.Log.Info("the model's chat template does not parse; using the plain role: content format", "error", err.Error())
		tpl, _ = chattemplate.New("", "", "")
	} else if tpl.Plain() {
		o.Log.Info("the model has no chat template; chat prompts use the plain role: content format")
	}
	b, err := SelectBackend(o.Device, m, o.Log)
	if err != nil {
		m.Close()
		return nil, err
	}
	return &Model{Backend: b, Tokenizer: tok, Template: tpl, LoadTime: time.Since(start), file: m}, nil
}
