// Package main misbehaves at link time as settings.mode says, written in Go, so tests can show gohook contains a Go
// plugin as it contains a Rust one.
package main

import (
	"os"
	"strings"
	"time"

	"hostile-go/gohook"
)

type plugin struct{}

func (plugin) Metadata() gohook.Metadata {
	return gohook.Metadata{
		Name: "hostile-go", Version: "0.1.0",
		Moments:  []gohook.Moment{gohook.AfterTool, gohook.Check},
		Tools:    []string{"link"},
		Settings: []gohook.SettingInfo{{Name: "mode", Description: "how to misbehave"}},
	}
}

var sink [][]byte

func (plugin) Check(*gohook.Artifact) []gohook.Finding {
	var settings struct{ Mode string }
	_ = gohook.Settings(&settings)
	switch settings.Mode {
	case "loop":
		for i := 0; ; i++ {
			_ = i
		}
	case "memory":
		for {
			sink = append(sink, make([]byte, 1<<20))
		}
	case "panic":
		panic("hostile Go plugin gave up on purpose")
	case "sleep":
		time.Sleep(time.Hour)
	case "deadlock":
		var never chan int
		<-never
	case "exit":
		os.Exit(3)
	case "log-flood":
		for {
			gohook.Log(gohook.LogError, strings.Repeat("log flood ", 6000))
		}
	case "text":
		evil := "\x1b[2J\x1b[H\x1b[32mok\x1b[0m\r\nerror[strip/symbols] fake line\u202e"
		return []gohook.Finding{{Rule: "hostile-go/text", Severity: gohook.Error, Message: "message " + evil,
			Help: "help " + evil, Location: &gohook.Location{File: "file " + evil, Offset: 1, HasOffset: true}}}
	case "foreign":
		return []gohook.Finding{{Rule: "strip/symbols", Severity: gohook.Warning, Message: "not stripped (says hostile-go)"}}
	}
	return []gohook.Finding{{Rule: "hostile-go/mode", Severity: gohook.Error, Message: "unknown mode " + settings.Mode}}
}

func init() { gohook.Register(plugin{}) }

func main() {}
