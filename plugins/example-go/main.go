// Package main is an example gohook plugin in Go: no release binary may link a denied package (net/http/pprof by
// default). It reads go's function table (.gopclntab, kept by -s -w too) through the SDK's io.ReaderAt. Build it with
// `gohook plugin build plugins/example-go`; use it as [plugins.denied-packages] path = "…/denied-packages.wasm".
package main

import (
	"debug/elf"
	"debug/gosym"
	"debug/macho"
	"fmt"

	"denied-packages/gohook"
)

const rule = "denied-packages/linked"

type plugin struct{}

func (plugin) Metadata() gohook.Metadata {
	return gohook.Metadata{
		Name: "denied-packages", Version: "0.1.0",
		Moments:  []gohook.Moment{gohook.AfterTool, gohook.Check},
		Tools:    []string{"link"},
		Settings: []gohook.SettingInfo{{Name: "deny", Description: "import paths that must not be linked"}},
		Rules:    []gohook.RuleInfo{{ID: rule, Summary: "a denied package is linked", Help: "drop the import"}},
	}
}

func (plugin) Check(binary *gohook.Artifact) []gohook.Finding {
	settings := struct{ Deny []string }{Deny: []string{"net/http/pprof"}}
	if err := gohook.Settings(&settings); err != nil {
		return []gohook.Finding{{Rule: "denied-packages/settings", Severity: gohook.Error, Message: err.Error()}}
	}
	table, err := functions(binary)
	if err != nil {
		return []gohook.Finding{{Rule: "denied-packages/unreadable", Severity: gohook.Error, Message: err.Error()}}
	}
	linked := map[string]bool{}
	for _, fn := range table.Funcs {
		linked[fn.PackageName()] = true
	}
	var findings []gohook.Finding
	for _, pkg := range settings.Deny {
		if linked[pkg] {
			findings = append(findings, gohook.Finding{Rule: rule, Severity: gohook.Error,
				Message: fmt.Sprintf("%s is linked in", pkg), Help: "remove the import of " + pkg})
		}
	}
	return findings
}

// functions reads the Go function table of an ELF or Mach-O binary: its pclntab section, and where text starts.
func functions(binary *gohook.Artifact) (*gosym.Table, error) {
	var pclntab interface{ Data() ([]byte, error) }
	var textAddr uint64
	if f, err := elf.NewFile(binary); err == nil {
		if s, t := f.Section(".gopclntab"), f.Section(".text"); s != nil && t != nil {
			pclntab, textAddr = s, t.Addr
		}
	} else if f, err := macho.NewFile(binary); err == nil {
		if s, t := f.Section("__gopclntab"), f.Section("__text"); s != nil && t != nil {
			pclntab, textAddr = s, t.Addr
		}
	} else {
		return nil, fmt.Errorf("%s is neither ELF nor Mach-O", binary.Path())
	}
	if pclntab == nil {
		return nil, fmt.Errorf("%s has no Go function table", binary.Path())
	}
	data, err := pclntab.Data()
	if err != nil {
		return nil, err
	}
	return gosym.NewTable(nil, gosym.NewLineTable(data, textAddr))
}

func init() { gohook.Register(plugin{}) }

func main() {}
