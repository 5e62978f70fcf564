// Package main is the gohook plugin PLUGIN_NAME: release binaries must be built with -trimpath, so they carry no
// path of the machine that built them. Build it with `gohook plugin build`, try it with
// `gohook plugin test PLUGIN_NAME.wasm BINARY`, and use it from gohook.toml (see gohook.toml.example).
package main

import (
	"debug/buildinfo"
	"io"

	"PLUGIN_MODULE/gohook"
)

const rule = "PLUGIN_NAME/trimpath"

type plugin struct{}

func (plugin) Metadata() gohook.Metadata {
	return gohook.Metadata{
		Name:    "PLUGIN_NAME",
		Version: "0.1.0",
		// After each link (Check then runs on the binary) and in `gohook check FILE`.
		Moments: []gohook.Moment{gohook.AfterTool, gohook.Check},
		Tools:   []string{"link"},
		Rules: []gohook.RuleInfo{{
			ID: rule, Summary: "the binary was built without -trimpath", Help: "build with go build -trimpath",
		}},
	}
}

func (plugin) Check(binary *gohook.Artifact) []gohook.Finding {
	return checkTrimpath(io.NewSectionReader(binary, 0, binary.Size()))
}

// checkTrimpath is the check itself, on anything debug/buildinfo reads: testable with go test on this machine.
func checkTrimpath(r io.ReaderAt) []gohook.Finding {
	info, err := buildinfo.Read(r)
	if err != nil {
		return []gohook.Finding{{Rule: "PLUGIN_NAME/unreadable", Severity: gohook.Error, Message: err.Error()}}
	}
	for _, setting := range info.Settings {
		if setting.Key == "-trimpath" && setting.Value == "true" {
			return nil
		}
	}
	return []gohook.Finding{{
		Rule: rule, Severity: gohook.Error, Message: "built without -trimpath (" + info.GoVersion + ")",
		Help: "build with go build -trimpath",
	}}
}

func init() { gohook.Register(plugin{}) }

func main() {}
