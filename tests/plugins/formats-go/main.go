// Package main says what Go's own parsers read in a binary handed over as an io.ReaderAt: format and
// architectures, as a note, so tests can hold its verdicts and the bytes it read to account.
package main

import (
	"debug/elf"
	"debug/macho"
	"debug/pe"
	"strings"

	"formats-go/gohook"
)

type plugin struct{}

func (plugin) Metadata() gohook.Metadata {
	return gohook.Metadata{Name: "formats-go", Version: "0.1.0", Moments: []gohook.Moment{gohook.Check}}
}

var elfArch = map[elf.Machine]string{elf.EM_X86_64: "amd64", elf.EM_AARCH64: "arm64"}
var machoArch = map[macho.Cpu]string{macho.CpuAmd64: "amd64", macho.CpuArm64: "arm64"}
var peArch = map[uint16]string{pe.IMAGE_FILE_MACHINE_AMD64: "amd64", pe.IMAGE_FILE_MACHINE_ARM64: "arm64"}

func (plugin) Check(binary *gohook.Artifact) []gohook.Finding {
	verdict := "unreadable"
	if fat, err := macho.NewFatFile(binary); err == nil {
		var arches []string
		for _, slice := range fat.Arches {
			arches = append(arches, machoArch[slice.Cpu])
		}
		verdict = "universal Mach-O " + strings.Join(arches, "+")
	} else if f, err := macho.NewFile(binary); err == nil {
		verdict = "Mach-O " + machoArch[f.Cpu]
	} else if f, err := elf.NewFile(binary); err == nil {
		verdict = "ELF " + elfArch[f.Machine]
	} else if f, err := pe.NewFile(binary); err == nil {
		verdict = "PE " + peArch[f.Machine]
	}
	return []gohook.Finding{{Rule: "formats-go/format", Severity: gohook.Note, Message: verdict}}
}

func init() { gohook.Register(plugin{}) }

func main() {}
