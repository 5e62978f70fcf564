//go:build wasip1

package gohook

// The canonical ABI of the gohook:plugin@0.1.0 world, by hand: go.bytecodealliance.org (wit-bindgen's Go runtime)
// is not needed, and this world is small. Layouts follow the component model's rules (a string or list is a
// pointer and a length; records are laid out field by field at their alignment; an export with more than 16 flat
// parameters gets one pointer to them).
//
// Memory the host writes into — an export's parameters before the call, an import's results during it — comes from
// cabi_realloc, which must not allocate from the Go heap: an allocation can start a garbage collection, which reads
// the clock, an import the component model forbids while the host is writing. So cabi_realloc bumps a pointer in
// arenas reserved beforehand: `transient` for what the host writes (emptied once read), `permanent` for what the
// WASI adapter allocates for itself on its first call (its state lives as long as the instance).

import (
	"runtime"
	"strconv"
	"strings"
	"unsafe"
)

var (
	permanent     [256 << 10]byte
	permanentUsed uintptr
	transient     = make([]byte, 1<<20)
	transientUsed uintptr
	// lowering: the host is writing into this instance (an export's parameters, an import's results).
	lowering bool
	// retained keeps what a returned pointer points to alive until the host has read it (the next call).
	retained []any
)

func init() {
	// The first export's parameters are written after initialization.
	lowering = true
}

func addr(p unsafe.Pointer) uint32 { return uint32(uintptr(p)) }

func at(a uint32) unsafe.Pointer { return unsafe.Pointer(uintptr(a)) }

//go:wasmexport cabi_realloc
func cabiRealloc(old, oldSize, align, newSize uint32) uint32 {
	var p uint32
	if lowering && transient != nil {
		p = bump(transient, &transientUsed, align, newSize)
	} else {
		p = bump(permanent[:], &permanentUsed, align, newSize)
	}
	if p == 0 {
		// Beyond what was reserved: the Go heap, and the risk of a collection (see above).
		buffer := make([]byte, newSize+align)
		retained = append(retained, buffer)
		p = (addr(unsafe.Pointer(&buffer[0])) + align - 1) &^ (align - 1)
	}
	if old != 0 && oldSize > 0 {
		copy(unsafe.Slice((*byte)(at(p)), min(oldSize, newSize)), unsafe.Slice((*byte)(at(old)), min(oldSize, newSize)))
	}
	return p
}

// bump allocates size bytes at align in arena, or returns 0 when they do not fit.
func bump(arena []byte, used *uintptr, align, size uint32) uint32 {
	base := uintptr(unsafe.Pointer(&arena[0]))
	start := (base + *used + uintptr(align) - 1) &^ (uintptr(align) - 1)
	if start+uintptr(size) > base+uintptr(len(arena)) {
		return 0
	}
	*used = start + uintptr(size) - base
	return uint32(start)
}

// reserve makes room for an import's result of up to n bytes, before the import is called.
func reserve(n int) {
	if len(transient) < n+64 {
		transient = make([]byte, n+64)
	}
}

// hosting brackets an import call that returns data: the host writes into transient, read before the next one.
func hosting(call func()) {
	transientUsed = 0
	lowering = true
	call()
	lowering = false
}

// enter starts an export: what the host wrote stays readable until done, nothing returned earlier is needed.
func enter() {
	lowering = false
	retained = retained[:0]
}

// leave ends an export: the next one's parameters are written into transient from its start.
func leave() {
	transientUsed = 0
	lowering = true
}

// guard turns a Go panic into what gohook reports for any plugin that panics: the location and the message on
// stderr, then a trap.
func guard() {
	if r := recover(); r != nil {
		println("panicked at " + panicLocation() + ":\n" + panicText(r))
		runtime.Breakpoint()
	}
}

func panicText(r any) string {
	switch v := r.(type) {
	case error:
		return v.Error()
	case string:
		return v
	default:
		return "panic"
	}
}

// panicLocation is the first frame outside the runtime after the runtime's panic frames: where the panic was raised.
func panicLocation() string {
	pcs := make([]uintptr, 32)
	frames := runtime.CallersFrames(pcs[:runtime.Callers(1, pcs)])
	inRuntime := false
	for {
		frame, more := frames.Next()
		if strings.HasPrefix(frame.Function, "runtime.") {
			inRuntime = true
		} else if inRuntime {
			return frame.File + ":" + strconv.Itoa(frame.Line)
		}
		if !more {
			return "unknown location"
		}
	}
}

func u32(a uint32) uint32 { return *(*uint32)(at(a)) }

func u8(a uint32) uint8 { return *(*uint8)(at(a)) }

func str(ptr, n uint32) string {
	if n == 0 {
		return ""
	}
	return string(unsafe.Slice((*byte)(at(ptr)), n))
}

// strAt reads a string stored as (pointer, length) at a.
func strAt(a uint32) string { return str(u32(a), u32(a+4)) }

func stringsAt(ptr, n uint32) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = strAt(ptr + uint32(i)*8)
	}
	return out
}

// Writing results: a buffer of the Go heap, kept alive in retained.
type out struct{ buf []byte }

func newOut(size, count int) out {
	if size*count == 0 {
		return out{}
	}
	// 8-byte words: the alignment every record here needs.
	words := make([]uint64, (size*count+7)/8)
	retained = append(retained, words)
	return out{unsafe.Slice((*byte)(unsafe.Pointer(&words[0])), len(words)*8)}
}

func (o out) ptr() uint32 {
	if len(o.buf) == 0 {
		return 0
	}
	return addr(unsafe.Pointer(&o.buf[0]))
}

func (o out) put8(off int, v uint8)   { o.buf[off] = v }
func (o out) put32(off int, v uint32) { *(*uint32)(unsafe.Pointer(&o.buf[off])) = v }
func (o out) put64(off int, v uint64) { *(*uint64)(unsafe.Pointer(&o.buf[off])) = v }

// putStr stores s as (pointer, length) at off.
func (o out) putStr(off int, s string) {
	if s == "" {
		o.put32(off, 0)
		o.put32(off+4, 0)
		return
	}
	b := []byte(s)
	retained = append(retained, b)
	o.put32(off, addr(unsafe.Pointer(&b[0])))
	o.put32(off+4, uint32(len(b)))
}

// putOptStr stores option<string> at off: a tag byte, then the string at off+4.
func (o out) putOptStr(off int, s string) {
	if s == "" {
		o.put8(off, 0)
		return
	}
	o.put8(off, 1)
	o.putStr(off+4, s)
}

func (o out) putList(off int, list out, n int) {
	o.put32(off, list.ptr())
	o.put32(off+4, uint32(n))
}

func stringList(items []string) out {
	list := newOut(8, len(items))
	for i, s := range items {
		list.putStr(i*8, s)
	}
	return list
}

// The return area of every export: a pointer and a length, or the metadata record.
var returnArea [12]uint32

func returnList(list out, n int) uint32 {
	returnArea[0], returnArea[1] = list.ptr(), uint32(n)
	return addr(unsafe.Pointer(&returnArea[0]))
}

// finding: rule 0, severity 8, message 12, help 20 (option<string>), location 32 (option<location>, 8-aligned:
// file 8+0, offset 8+16 (option<u64>: tag, value at +8), section 8+32); 88 bytes.
const findingSize = 88

func returnFindings(findings []Finding) uint32 {
	list := newOut(findingSize, len(findings))
	for i, f := range findings {
		base := i * findingSize
		list.putStr(base, f.Rule)
		list.put8(base+8, uint8(f.Severity))
		list.putStr(base+12, f.Message)
		list.putOptStr(base+20, f.Help)
		if f.Location != nil {
			list.put8(base+32, 1)
			location := base + 40
			list.putOptStr(location, f.Location.File)
			if f.Location.HasOffset {
				list.put8(location+16, 1)
				list.put64(location+24, f.Location.Offset)
			}
			list.putOptStr(location+32, f.Location.Section)
		}
	}
	return returnList(list, len(findings))
}

//go:wasmexport metadata
func exportMetadata() uint32 {
	enter()
	defer leave()
	defer guard()
	m := plugin().Metadata()
	moments := newOut(1, len(m.Moments))
	for i, moment := range m.Moments {
		moments.put8(i, uint8(moment))
	}
	settings := newOut(16, len(m.Settings))
	for i, s := range m.Settings {
		settings.putStr(i*16, s.Name)
		settings.putStr(i*16+8, s.Description)
	}
	rules := newOut(24, len(m.Rules))
	for i, r := range m.Rules {
		rules.putStr(i*24, r.ID)
		rules.putStr(i*24+8, r.Summary)
		rules.putStr(i*24+16, r.Help)
	}
	record := newOut(48, 1)
	record.putStr(0, m.Name)
	record.putStr(8, m.Version)
	record.putList(16, moments, len(m.Moments))
	record.putList(24, stringList(m.Tools), len(m.Tools))
	record.putList(32, settings, len(m.Settings))
	record.putList(40, rules, len(m.Rules))
	return record.ptr()
}

//go:wasmexport on-probe
func exportOnProbe(toolP, toolN, goosP, goosN, goarchP, goarchN, envP, envN uint32) uint32 {
	enter()
	defer leave()
	defer guard()
	probe := ProbeInfo{Tool: str(toolP, toolN), GOOS: str(goosP, goosN), GOARCH: str(goarchP, goarchN)}
	probe.Env = make(map[string]string, envN)
	for i := range envN {
		probe.Env[strAt(envP+i*16)] = strAt(envP + i*16 + 8)
	}
	var findings []Finding
	if handler, ok := plugin().(ProbeHandler); ok {
		findings = handler.OnProbe(probe)
	}
	return returnFindings(findings)
}

func invocation(toolP, toolN, stageP, stageN, pathP, pathN, goosP, goosN, goarchP, goarchN, argsP, argsN, outTag, outP, outN uint32) Invocation {
	inv := Invocation{
		Tool: str(toolP, toolN), Stage: str(stageP, stageN), ImportPath: str(pathP, pathN),
		GOOS: str(goosP, goosN), GOARCH: str(goarchP, goarchN), Args: stringsAt(argsP, argsN),
	}
	if outTag != 0 {
		inv.Output = str(outP, outN)
	}
	return inv
}

//go:wasmexport before-tool
func exportBeforeTool(toolP, toolN, stageP, stageN, pathP, pathN, goosP, goosN, goarchP, goarchN, argsP, argsN, outTag, outP, outN uint32) uint32 {
	enter()
	defer leave()
	defer guard()
	inv := invocation(toolP, toolN, stageP, stageN, pathP, pathN, goosP, goosN, goarchP, goarchN, argsP, argsN, outTag, outP, outN)
	var findings []Finding
	if handler, ok := plugin().(BeforeToolHandler); ok {
		findings = handler.BeforeTool(inv)
	}
	return returnFindings(findings)
}

// after-tool has 18 flat parameters, so they arrive in memory: the invocation record (60 bytes), the exit code at
// 60, option<borrow<artifact>> at 64 (tag, handle at 68).
//
//go:wasmexport after-tool
func exportAfterTool(p uint32) uint32 {
	enter()
	defer leave()
	defer guard()
	w := func(i uint32) uint32 { return u32(p + 4*i) }
	inv := invocation(w(0), w(1), w(2), w(3), w(4), w(5), w(6), w(7), w(8), w(9), w(10), w(11), uint32(u8(p+48)), w(13), w(14))
	exitCode := int32(w(15))
	var output *Artifact
	if u8(p+64) != 0 {
		output = &Artifact{handle: int32(w(17))}
		// A borrowed handle must be given back before the call returns.
		defer artifactDrop(output.handle)
	}
	return returnFindings(afterTool(inv, exitCode, output))
}

//go:wasmexport check
func exportCheck(handle int32) uint32 {
	enter()
	defer leave()
	defer guard()
	defer artifactDrop(handle)
	var findings []Finding
	if handler, ok := plugin().(CheckHandler); ok {
		findings = handler.Check(&Artifact{handle: handle})
	}
	return returnFindings(findings)
}

//go:wasmimport gohook:plugin/host@0.1.0 log
func hostLog(level, ptr, n uint32)

//go:wasmimport gohook:plugin/host@0.1.0 settings
func hostSettings(ret uint32)

//go:wasmimport gohook:plugin/host@0.1.0 [method]artifact.path
func artifactPath(handle int32, ret uint32)

//go:wasmimport gohook:plugin/host@0.1.0 [method]artifact.size
func artifactSize(handle int32) int64

//go:wasmimport gohook:plugin/host@0.1.0 [method]artifact.read
func artifactRead(handle int32, offset int64, n uint32, ret uint32)

//go:wasmimport gohook:plugin/host@0.1.0 [resource-drop]artifact
func artifactDrop(handle int32)

func hostLogString(level LogLevel, message string) {
	if message == "" {
		hostLog(uint32(level), 0, 0)
		return
	}
	hostLog(uint32(level), addr(unsafe.Pointer(unsafe.StringData(message))), uint32(len(message)))
	runtime.KeepAlive(message)
}

var importArea [3]uint32

func hostSettingsString() string {
	reserve(64 << 10)
	var text string
	hosting(func() {
		hostSettings(addr(unsafe.Pointer(&importArea[0])))
		text = str(importArea[0], importArea[1])
	})
	return text
}

func artifactPathString(handle int32) string {
	reserve(64 << 10)
	var path string
	hosting(func() {
		artifactPath(handle, addr(unsafe.Pointer(&importArea[0])))
		path = str(importArea[0], importArea[1])
	})
	return path
}

// artifactReadInto reads len(dst) bytes at offset into dst: how many came, and the host's error.
func artifactReadInto(handle int32, offset int64, dst []byte) (int, error) {
	reserve(len(dst))
	var n int
	var failure string
	hosting(func() {
		artifactRead(handle, offset, uint32(len(dst)), addr(unsafe.Pointer(&importArea[0])))
		tag, ptr, length := importArea[0]&0xff, importArea[1], importArea[2]
		if tag == 0 {
			n = copy(dst, unsafe.Slice((*byte)(at(ptr)), length))
		} else {
			failure = str(ptr, length)
		}
	})
	if failure != "" {
		return n, hostError(failure)
	}
	return n, nil
}

type hostError string

func (e hostError) Error() string { return "gohook: reading the artifact: " + string(e) }
