// Package gohook is the Go SDK for gohook policy plugins: implement Plugin (and the moments you handle), call
// Register from an init function, and build with `gohook plugin build`, which turns the standard toolchain's
// wasip1 module into a gohook:plugin component. The binary a check sees is an *Artifact, an io.ReaderAt that reads
// the pages asked for through the host, so debug/elf, debug/macho, debug/pe and debug/buildinfo work on it directly.
//
// gohook writes this package into every plugin it builds (the directory gohook/ next to go.mod), matched to its own
// plugin contract, gohook:plugin@0.1.0: nothing is downloaded.
package gohook

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
)

// Moment is when gohook asks a plugin.
type Moment uint8

const (
	// Probe is go's `tool -V=full` question, asked once per tool and go command even when everything is cached:
	// the place for checks on the target (GOOS, GOARCH, the go environment).
	Probe Moment = iota
	// BeforeTool is before a compile, asm, link, … runs; an error finding stops the tool.
	BeforeTool
	// AfterTool is after it ran; for link the output is the binary, and an error finding fails the link.
	AfterTool
	// Check is a finished binary outside any build (`gohook check FILE`).
	Check
)

// Severity of a finding: an Error fails what it is about (unless gohook.toml turns the rule to warn), a Warning is
// recorded and shown, a Note explains.
type Severity uint8

const (
	Error Severity = iota
	Warning
	Note
)

// Location says where a finding points; every field is optional.
type Location struct {
	File    string
	Offset  uint64
	Section string
	// HasOffset says Offset is set (0 is a valid offset).
	HasOffset bool
}

// Finding is one result of a check. Rule is "<plugin name>/<rule>", the plugin name as Metadata declares it.
type Finding struct {
	Rule     string
	Severity Severity
	Message  string
	// Help says how to fix it, e.g. `build with -ldflags="-s -w"`.
	Help     string
	Location *Location
}

// RuleInfo describes a rule the plugin can report.
type RuleInfo struct {
	ID, Summary, Help string
}

// SettingInfo declares a setting of `[plugins.NAME.settings]`; gohook rejects settings a plugin does not declare.
type SettingInfo struct {
	Name, Description string
}

// Metadata is what gohook learns about a plugin once and remembers: it never starts the plugin for moments or
// tools it does not list.
type Metadata struct {
	Name, Version string
	Moments       []Moment
	// Tools limits BeforeTool and AfterTool to these tools ("compile", "asm", "link", …); empty means all.
	Tools    []string
	Settings []SettingInfo
	Rules    []RuleInfo
}

// ProbeInfo is go's `-V=full` probe of one tool.
type ProbeInfo struct {
	Tool, GOOS, GOARCH string
	// Env is the go environment the probe sees (GO* and CGO_* variables).
	Env map[string]string
}

// Invocation is one tool run.
type Invocation struct {
	Tool string
	// Stage is compile, asm, cgo, link, vet, cover, cc or other.
	Stage string
	// ImportPath is the package being built; empty when there is none.
	ImportPath   string
	GOOS, GOARCH string
	// Args are the tool's arguments, response files expanded.
	Args []string
	// Output is the -o file; empty when there is none.
	Output string
}

// Plugin is what every plugin implements; the moments it handles are the other interfaces below.
type Plugin interface {
	Metadata() Metadata
}

// ProbeHandler handles the Probe moment.
type ProbeHandler interface {
	OnProbe(probe ProbeInfo) []Finding
}

// BeforeToolHandler handles the BeforeTool moment.
type BeforeToolHandler interface {
	BeforeTool(invocation Invocation) []Finding
}

// AfterToolHandler handles the AfterTool moment; output is the tool's output file (the binary, for link), or nil.
type AfterToolHandler interface {
	AfterTool(invocation Invocation, exitCode int32, output *Artifact) []Finding
}

// CheckHandler handles the Check moment.
type CheckHandler interface {
	Check(binary *Artifact) []Finding
}

var registered Plugin

// Register makes p the plugin; call it from an init function of package main.
func Register(p Plugin) {
	registered = p
}

// afterTool is what the AfterTool moment does: the plugin's own handler, else its Check on a successful link's
// output, so one Check covers the build and `gohook check FILE`.
func afterTool(inv Invocation, exitCode int32, output *Artifact) []Finding {
	switch handler := plugin().(type) {
	case AfterToolHandler:
		return handler.AfterTool(inv, exitCode, output)
	case CheckHandler:
		if inv.Stage == "link" && exitCode == 0 && output != nil {
			return handler.Check(output)
		}
	}
	return nil
}

func plugin() Plugin {
	if registered == nil {
		panic("gohook: no plugin registered: call gohook.Register(yourPlugin) in an init function of package main")
	}
	return registered
}

// LogLevel of a line sent to gohook's log.
type LogLevel uint8

const (
	LogTrace LogLevel = iota
	LogDebug
	LogInfo
	LogWarn
	LogError
)

// Log writes one line to gohook's log, prefixed with the plugin's name (GOHOOK_LOG=info shows it).
func Log(level LogLevel, message string) {
	hostLogString(level, message)
}

// Logf is Log with fmt.Sprintf.
func Logf(level LogLevel, format string, args ...any) {
	hostLogString(level, fmt.Sprintf(format, args...))
}

// Settings decodes this plugin's `[plugins.NAME.settings]` into v, as encoding/json does.
func Settings(v any) error {
	text := hostSettingsString()
	if err := json.Unmarshal([]byte(text), v); err != nil {
		return fmt.Errorf("gohook: the plugin's settings %s do not decode: %w", text, err)
	}
	return nil
}

// Artifact is a file gohook hands to the plugin, read on demand; valid only during the call it was given to.
type Artifact struct {
	handle int32
	size   int64
	path   string
	known  bool
	// local is a file of this machine (NewArtifact, for tests run with go test).
	local io.ReaderAt
}

// NewArtifact is an Artifact over r, for testing a plugin's checks natively with go test.
func NewArtifact(r io.ReaderAt, size int64, path string) *Artifact {
	return &Artifact{size: size, path: path, known: true, local: r}
}

// Path of the file, for messages.
func (a *Artifact) Path() string {
	a.learn()
	return a.path
}

// Size of the file in bytes.
func (a *Artifact) Size() int64 {
	a.learn()
	return a.size
}

func (a *Artifact) learn() {
	if !a.known {
		a.size = artifactSize(a.handle)
		a.path = artifactPathString(a.handle)
		a.known = true
	}
}

// maxRead is the contract's limit per host read.
const maxRead = 16 << 20

// ReadAt reads len(p) bytes at off through the host, as io.ReaderAt: fewer only at the end of the file, with
// io.EOF.
func (a *Artifact) ReadAt(p []byte, off int64) (int, error) {
	if off < 0 {
		return 0, errors.New("gohook: negative offset")
	}
	if a.local != nil {
		return a.local.ReadAt(p, off)
	}
	n := 0
	for n < len(p) {
		chunk := min(len(p)-n, maxRead)
		got, err := artifactReadInto(a.handle, off+int64(n), p[n:n+chunk])
		n += got
		if err != nil {
			return n, err
		}
		if got < chunk {
			return n, io.EOF
		}
	}
	return n, nil
}
