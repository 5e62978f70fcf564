//! The protections checksec (ELF), BinSkim and winchecksec (PE) and `codesign`/`otool` (Mach-O) read, read the way
//! those tools read them, plus what they cannot see: whether any C code is in the binary at all.
//!
//! [`Binary::hardening`] answers per image (each slice of a universal Mach-O); [`Binary::compiled_c`] reads what a C
//! compiler left in an object: cgo's `_cgo_.o`, every C object of one package linked together.

use object::read::elf::{Dyn as _, FileHeader, ProgramHeader as _, SectionHeader as _, Sym as _};
use object::read::macho::{MachHeader, Segment as _};
use object::read::pe::{ImageNtHeaders, ImageOptionalHeader as _};
use object::read::{ReadRef, StringTable};
use object::{BigEndian as BE, Endianness, FileKind, LittleEndian as LE, elf, macho, pe};

use crate::inspect::{Binary, ImageData};

/// The protections of one image.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Hardening {
    /// Where the image starts in the file (0 unless it is a fat slice).
    pub offset: u64,
    pub protections: Protections,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Protections {
    Elf(ElfHardening),
    MachO(MachOHardening),
    Pe(PeHardening),
}

/// Ordered weakest first; spelled `none`, `partial`, `full` in settings.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Default, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Relro {
    #[default]
    None,
    Partial,
    Full,
}

impl Relro {
    pub fn name(self) -> &'static str {
        match self {
            Relro::None => "none",
            Relro::Partial => "partial",
            Relro::Full => "full",
        }
    }
}

/// What checksec's `--file` prints, by its rules, and what decides whether its canary, FORTIFY and RELRO columns
/// mean anything for this binary.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ElfHardening {
    /// `PT_GNU_RELRO`, and full when `DT_BIND_NOW` or `DF_BIND_NOW` is set (checksec greps `BIND_NOW`).
    pub relro: Relro,
    /// `PT_GNU_STACK` present and not readable+writable+executable.
    pub nx: bool,
    /// The `PT_LOAD` segments mapped writable and executable, by index.
    pub rwx_segments: Vec<usize>,
    /// `ET_EXEC`: no; `ET_DYN` with `DT_DEBUG`: yes (checksec's rule; Go's linkers set `DT_DEBUG` in every PIE).
    pub pie: bool,
    pub rpath: Vec<String>,
    pub runpath: Vec<String>,
    /// `DT_TEXTREL` or `DF_TEXTREL`: the loader must write to code.
    pub textrel: bool,
    /// A `.symtab` section.
    pub symbols: bool,
    /// A symbol naming `__stack_chk_fail`, `__stack_chk_guard` or `__intel_security_cookie` (checksec's grep).
    /// Read only when C code is linked ([`ElfHardening::c_code`]): in pure Go it means nothing.
    pub canary: bool,
    /// Dynamic symbols ending in `_chk` (FORTIFY_SOURCE's checked functions), leading underscores dropped.
    pub fortified: Vec<String>,
    /// Dynamic symbols of libc functions FORTIFY_SOURCE would replace, called unchecked.
    pub fortifiable: Vec<String>,
    /// `PT_DYNAMIC`: the loader resolves symbols at run time.
    pub dynamic: bool,
    /// Why the binary holds C code (a compiler's `.comment`, C library imports), or `None` for pure Go.
    pub c_code: Option<String>,
    /// The external linker (the C toolchain) wrote the file: its `.init` section is there.
    pub external_link: bool,
    /// CET on x86 (`IBT`, `SHSTK`) or BTI/PAC on arm64, from the GNU property note.
    pub cet: Vec<&'static str>,
}

/// Apple's code signature, as `codesign -d` reads it from the CodeDirectory.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Signature {
    /// No `LC_CODE_SIGNATURE`.
    None,
    /// Signed without an identity (`CS_ADHOC`): Go's linker does this for every darwin/arm64 executable.
    AdHoc,
    /// A CMS signature by a certificate (Developer ID, an enterprise CA, …).
    Identity,
    /// `LC_CODE_SIGNATURE` points at something that is not a readable signature; the text says what.
    Invalid(String),
}

impl Signature {
    pub fn name(&self) -> &'static str {
        match self {
            Signature::None => "none",
            Signature::AdHoc => "ad-hoc",
            Signature::Identity => "identity",
            Signature::Invalid(_) => "invalid",
        }
    }
}

pub const CS_ADHOC: u32 = 0x2;
pub const CS_RUNTIME: u32 = 0x1_0000;
pub const CS_LINKER_SIGNED: u32 = 0x2_0000;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MachOHardening {
    /// `MH_EXECUTE` with `MH_PIE`.
    pub pie: bool,
    pub executable: bool,
    /// A `__PAGEZERO` segment at address 0 with no access: null pointers fault.
    pub pagezero: bool,
    pub signature: Signature,
    /// The CodeDirectory's flags (`CS_ADHOC`, `CS_RUNTIME`, `CS_LINKER_SIGNED`, …); 0 without a signature.
    pub code_directory_flags: u32,
    pub rpaths: Vec<String>,
}

impl MachOHardening {
    /// The hardened runtime, which notarization requires.
    pub fn hardened_runtime(&self) -> bool {
        self.code_directory_flags & CS_RUNTIME != 0
    }
}

/// The PE header bits BinSkim and winchecksec read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PeHardening {
    pub dynamic_base: bool,
    pub high_entropy_va: bool,
    pub nx_compat: bool,
    pub guard_cf: bool,
    pub force_integrity: bool,
    pub relocs_stripped: bool,
    /// The security data directory is not empty: an Authenticode signature is attached (not verified).
    pub authenticode: bool,
    /// Sections both writable and executable.
    pub wx_sections: Vec<String>,
    /// `NumberOfSymbols` of the COFF header.
    pub symbols: bool,
}

impl PeHardening {
    /// ASLR as winchecksec decides it: `DYNAMIC_BASE` and relocations kept.
    pub fn aslr(&self) -> bool {
        self.dynamic_base && !self.relocs_stripped
    }
}

/// What a C compiler left in an object: the symbols that show a stack protector or FORTIFY_SOURCE at work. (The
/// command lines are not there: go passes `-gno-record-gcc-switches`.)
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct CompiledC {
    /// Some function calls `__stack_chk_fail`: a canary is checked somewhere.
    pub canary: bool,
    /// Checked functions called (`__snprintf_chk` → `snprintf_chk`).
    pub fortified: Vec<String>,
    /// Functions FORTIFY_SOURCE would check, called unchecked.
    pub fortifiable: Vec<String>,
}

/// The libc functions glibc's FORTIFY_SOURCE replaces with a `__*_chk` variant (glibc 2.36's list).
const FORTIFIABLE: [&str; 78] = [
    "asprintf",
    "confstr",
    "dprintf",
    "explicit_bzero",
    "fdelt",
    "fgets",
    "fgets_unlocked",
    "fgetws",
    "fgetws_unlocked",
    "fprintf",
    "fread",
    "fread_unlocked",
    "fwprintf",
    "getcwd",
    "getdomainname",
    "getgroups",
    "gethostname",
    "getlogin_r",
    "gets",
    "getwd",
    "longjmp",
    "mbsnrtowcs",
    "mbsrtowcs",
    "mbstowcs",
    "memcpy",
    "memmove",
    "mempcpy",
    "memset",
    "obstack_printf",
    "obstack_vprintf",
    "poll",
    "ppoll",
    "pread",
    "pread64",
    "printf",
    "ptsname_r",
    "read",
    "readlink",
    "readlinkat",
    "realpath",
    "recv",
    "recvfrom",
    "snprintf",
    "sprintf",
    "stpcpy",
    "stpncpy",
    "strcat",
    "strcpy",
    "strlcat",
    "strlcpy",
    "strncat",
    "strncpy",
    "swprintf",
    "syslog",
    "ttyname_r",
    "vasprintf",
    "vdprintf",
    "vfprintf",
    "vfwprintf",
    "vprintf",
    "vsnprintf",
    "vsprintf",
    "vswprintf",
    "vsyslog",
    "vwprintf",
    "wcpcpy",
    "wcpncpy",
    "wcrtomb",
    "wcscat",
    "wcscpy",
    "wcsncat",
    "wcsncpy",
    "wcsnrtombs",
    "wcsrtombs",
    "wcstombs",
    "wctomb",
    "wmemcpy",
    "wprintf",
];

const CANARY_SYMBOLS: [&str; 3] = ["__stack_chk_fail", "__stack_chk_guard", "__intel_security_cookie"];

/// Sorts one symbol name into the canary and FORTIFY evidence.
fn classify_symbol(name: &str, canary: &mut bool, fortified: &mut Vec<String>, fortifiable: &mut Vec<String>) {
    if CANARY_SYMBOLS.iter().any(|s| name.contains(s)) {
        *canary = true;
    }
    // checksec: `sed -e 's/_*//' -e 's/@.*//'`, then names ending in `_chk`.
    let bare = name.trim_start_matches('_');
    let bare = bare.split('@').next().unwrap_or(bare);
    if bare.ends_with("_chk") {
        fortified.push(bare.to_owned());
    } else if FORTIFIABLE.contains(&bare) {
        fortifiable.push(bare.to_owned());
    }
}

impl Binary<'_> {
    /// The protections of every image.
    pub fn hardening(&self) -> Result<Vec<Hardening>, String> {
        let mut images = Vec::new();
        for (offset, size, _) in self.image_ranges()? {
            let data = self.data().range(offset, size);
            let text = |e: object::Error| format!("image at offset {offset}: {e}");
            let protections = match FileKind::parse(data).map_err(text)? {
                FileKind::Elf32 => {
                    Protections::Elf(elf_hardening::<elf::FileHeader32<Endianness>>(data).map_err(text)?)
                }
                FileKind::Elf64 => {
                    Protections::Elf(elf_hardening::<elf::FileHeader64<Endianness>>(data).map_err(text)?)
                }
                FileKind::MachO32 => {
                    Protections::MachO(macho_hardening::<macho::MachHeader32<Endianness>>(data).map_err(text)?)
                }
                FileKind::MachO64 => {
                    Protections::MachO(macho_hardening::<macho::MachHeader64<Endianness>>(data).map_err(text)?)
                }
                FileKind::Pe32 => Protections::Pe(pe_hardening::<pe::ImageNtHeaders32>(data).map_err(text)?),
                FileKind::Pe64 => Protections::Pe(pe_hardening::<pe::ImageNtHeaders64>(data).map_err(text)?),
                kind => return Err(format!("image at offset {offset}: unsupported format {kind:?}")),
            };
            images.push(Hardening { offset, protections });
        }
        Ok(images)
    }

    /// What the C compiler left in every image: the symbols of the stack protector and FORTIFY_SOURCE. Meant for
    /// small objects (cgo's `_cgo_.o`): it reads every symbol.
    pub fn compiled_c(&self) -> Result<CompiledC, String> {
        use object::{Object as _, ObjectSymbol as _};
        let mut found = CompiledC::default();
        for image in self.images()? {
            for symbol in image.file.symbols().chain(image.file.dynamic_symbols()) {
                if let Ok(name) = symbol.name() {
                    classify_symbol(name, &mut found.canary, &mut found.fortified, &mut found.fortifiable);
                }
            }
        }
        for list in [&mut found.fortified, &mut found.fortifiable] {
            list.sort();
            list.dedup();
        }
        Ok(found)
    }
}

fn elf_hardening<H: FileHeader<Endian = Endianness>>(data: ImageData<'_, '_>) -> object::Result<ElfHardening> {
    let header = H::parse(data)?;
    let endian = header.endian()?;
    let segments = header.program_headers(endian, data)?;
    let mut facts = ElfHardening::default();
    let mut gnu_relro = false;
    let mut stack = None;
    for (index, segment) in segments.iter().enumerate() {
        let flags = segment.p_flags(endian);
        match segment.p_type(endian) {
            elf::PT_GNU_RELRO => gnu_relro = true,
            // checksec flags any GNU_STACK line reading RWE (binaries with several exist, checksec#357).
            elf::PT_GNU_STACK => stack = Some(stack.unwrap_or(true) && flags & 0x7 != 0x7),
            elf::PT_DYNAMIC => facts.dynamic = true,
            elf::PT_LOAD if flags & elf::PF_W != 0 && flags & elf::PF_X != 0 => facts.rwx_segments.push(index),
            _ => {}
        }
    }
    facts.nx = stack == Some(true);

    let sections = header.sections(endian, data)?;
    let (mut bind_now, mut debug) = (false, false);
    if let Some((entries, strings_index)) = sections.dynamic(endian, data)? {
        let strings = sections.strings(endian, data, strings_index).unwrap_or_default();
        let text = |value: u64| -> String {
            let bytes = u32::try_from(value).ok().and_then(|at| strings.get(at).ok()).unwrap_or_default();
            String::from_utf8_lossy(bytes).into_owned()
        };
        for entry in entries {
            let value: u64 = entry.d_val(endian).into();
            match u32::try_from(entry.d_tag(endian).into()).unwrap_or(u32::MAX) {
                elf::DT_BIND_NOW => bind_now = true,
                elf::DT_FLAGS => {
                    bind_now |= value & u64::from(elf::DF_BIND_NOW) != 0;
                    facts.textrel |= value & u64::from(elf::DF_TEXTREL) != 0;
                }
                elf::DT_TEXTREL => facts.textrel = true,
                elf::DT_DEBUG => debug = true,
                elf::DT_RPATH => facts.rpath.extend(text(value).split(':').map(str::to_owned)),
                elf::DT_RUNPATH => facts.runpath.extend(text(value).split(':').map(str::to_owned)),
                _ => {}
            }
        }
    }
    facts.relro = match (gnu_relro, bind_now) {
        (false, _) => Relro::None,
        (true, false) => Relro::Partial,
        (true, true) => Relro::Full,
    };
    facts.pie = header.e_type(endian) == elf::ET_DYN && debug;

    let mut comment = None;
    for section in sections.iter() {
        let name = sections.section_name(endian, section).unwrap_or_default();
        match (section.sh_type(endian), name) {
            (elf::SHT_SYMTAB, _) => facts.symbols = true,
            (_, b".init") => facts.external_link = true,
            (_, b".comment") => {
                let bytes = section.data(endian, data).unwrap_or_default();
                let first = bytes.split(|&b| b == 0).find(|s| !s.is_empty()).unwrap_or_default();
                comment = Some(String::from_utf8_lossy(first).into_owned());
            }
            (elf::SHT_NOTE, b".note.gnu.property") => {
                facts.cet = gnu_properties(section.data(endian, data)?, endian, header.e_machine(endian));
            }
            _ => {}
        }
    }

    // Dynamic imports: C library functions, which only C code linked into the binary calls.
    let dynamic_symbols = sections.symbols(endian, data, elf::SHT_DYNSYM)?;
    let mut imports = 0usize;
    for symbol in dynamic_symbols.iter().skip(1) {
        let name = String::from_utf8_lossy(dynamic_symbols.symbol_name(endian, symbol).unwrap_or_default());
        imports += usize::from(symbol.is_undefined(endian));
        classify_symbol(&name, &mut facts.canary, &mut facts.fortified, &mut facts.fortifiable);
    }
    facts.c_code = match comment {
        Some(compiler) => Some(format!("compiled C is linked in ({compiler})")),
        None if imports > 0 => Some(format!("it imports {imports} C library symbols")),
        None => None,
    };
    if facts.c_code.is_some() && !facts.canary {
        // A static binary keeps libc's own __stack_chk_fail in .symtab, where checksec's `readelf -s` sees it too.
        let symbols = sections.symbols(endian, data, elf::SHT_SYMTAB)?;
        for symbol in symbols.iter() {
            let name = symbols.symbol_name(endian, symbol).unwrap_or_default();
            if CANARY_SYMBOLS.iter().any(|s| name.windows(s.len()).any(|w| w == s.as_bytes())) {
                facts.canary = true;
                break;
            }
        }
    }
    for list in [&mut facts.fortified, &mut facts.fortifiable] {
        list.sort();
        list.dedup();
    }
    Ok(facts)
}

/// The 32-bit word at `at`, if the bytes hold one. Offsets are u64 so that no sum of sizes read from the file can
/// wrap (plugins run on wasm32, where usize is 32 bits and release builds do not check overflow).
fn word_at(bytes: &[u8], at: u64, read: impl Fn([u8; 4]) -> u32) -> Option<u32> {
    let at = usize::try_from(at).ok()?;
    let word: [u8; 4] = bytes.get(at..at.checked_add(4)?)?.try_into().ok()?;
    Some(read(word))
}

/// The feature bits of `NT_GNU_PROPERTY_TYPE_0`: x86's IBT and SHSTK, arm64's BTI and PAC.
fn gnu_properties(bytes: &[u8], endian: Endianness, machine: u16) -> Vec<&'static str> {
    use object::Endian as _;
    let word = |at: u64| word_at(bytes, at, |w| endian.read_u32_bytes(w));
    let mut found = Vec::new();
    let mut note = 0u64;
    // Each note: namesz, descsz, type, "GNU\0", then properties (type, datasz, data padded to 8 on 64-bit). Every
    // step moves forward, so garbage ends the walk instead of looping.
    while let (Some(namesz), Some(descsz), Some(kind)) = (word(note), word(note + 4), word(note + 8)) {
        let desc = note + 12 + u64::from(namesz).next_multiple_of(4);
        let end = (desc + u64::from(descsz)).min(bytes.len() as u64);
        if kind == 5 {
            let mut at = desc;
            while let (Some(pr_type), Some(size)) = (word(at), word(at + 4)) {
                if at + 8 >= end {
                    break;
                }
                let value = word(at + 8).unwrap_or(0);
                let names: &[(u32, &'static str)] = match (pr_type, machine) {
                    (0xc000_0002, elf::EM_X86_64 | elf::EM_386) => &[(1, "IBT"), (2, "SHSTK")],
                    (0xc000_0000, elf::EM_AARCH64) => &[(1, "BTI"), (2, "PAC")],
                    _ => &[],
                };
                found.extend(names.iter().filter(|(bit, _)| value & bit != 0).map(|(_, name)| *name));
                at += 8 + u64::from(size).next_multiple_of(8);
            }
        }
        if end <= note {
            break;
        }
        note = end.next_multiple_of(4);
    }
    found
}

fn macho_hardening<H: MachHeader<Endian = Endianness>>(data: ImageData<'_, '_>) -> object::Result<MachOHardening> {
    let header = H::parse(data, 0)?;
    let endian = header.endian()?;
    let executable = header.filetype(endian) == macho::MH_EXECUTE;
    let mut facts = MachOHardening {
        pie: executable && header.flags(endian) & macho::MH_PIE != 0,
        executable,
        pagezero: false,
        signature: Signature::None,
        code_directory_flags: 0,
        rpaths: Vec::new(),
    };
    let mut commands = header.load_commands(endian, data, 0)?;
    while let Some(command) = commands.next()? {
        if let Some((segment, _)) = H::Segment::from_command(command)? {
            let vmaddr: u64 = segment.vmaddr(endian).into();
            let vmsize: u64 = segment.vmsize(endian).into();
            if segment.name() == b"__PAGEZERO" && vmaddr == 0 && vmsize > 0 && segment.initprot(endian) == 0 {
                facts.pagezero = true;
            }
        }
        match command.cmd() {
            macho::LC_RPATH => {
                let rpath = command.data::<macho::RpathCommand<Endianness>>()?;
                facts.rpaths.push(String::from_utf8_lossy(command.string(endian, rpath.path)?).into_owned());
            }
            macho::LC_CODE_SIGNATURE => {
                let link = command.data::<macho::LinkeditDataCommand<Endianness>>()?;
                let blob = data.read_bytes_at(link.dataoff.get(endian).into(), link.datasize.get(endian).into());
                (facts.signature, facts.code_directory_flags) = match blob {
                    Ok(blob) => read_signature(blob),
                    Err(()) => (Signature::Invalid("the signature lies outside the file".to_owned()), 0),
                };
            }
            _ => {}
        }
    }
    Ok(facts)
}

const CSMAGIC_EMBEDDED_SIGNATURE: u32 = 0xfade_0cc0;
const CSMAGIC_CODEDIRECTORY: u32 = 0xfade_0c02;
const CSMAGIC_BLOBWRAPPER: u32 = 0xfade_0b01;
const CSSLOT_CODEDIRECTORY: u32 = 0;
const CSSLOT_SIGNATURESLOT: u32 = 0x1_0000;

/// The embedded signature: a big-endian SuperBlob of (slot type, offset) entries; the CodeDirectory's flags sit 12
/// bytes in, and a CMS blob in the signature slot means a certificate signed it.
fn read_signature(blob: &[u8]) -> (Signature, u32) {
    use object::Endian as _;
    let word = |at: u64| word_at(blob, at, |w| BE.read_u32_bytes(w));
    if word(0) != Some(CSMAGIC_EMBEDDED_SIGNATURE) {
        return (Signature::Invalid(format!("no embedded signature (magic {:#x})", word(0).unwrap_or(0))), 0);
    }
    let count = word(8).unwrap_or(0).min(64);
    let (mut flags, mut directory, mut cms) = (0, false, false);
    for index in 0..u64::from(count) {
        let (Some(slot), Some(offset)) = (word(12 + 8 * index), word(16 + 8 * index)) else { break };
        let offset = u64::from(offset);
        match (slot, word(offset)) {
            (CSSLOT_CODEDIRECTORY, Some(CSMAGIC_CODEDIRECTORY)) => {
                directory = true;
                flags = word(offset + 12).unwrap_or(0);
            }
            (CSSLOT_SIGNATURESLOT, Some(CSMAGIC_BLOBWRAPPER)) => cms = word(offset + 4).is_some_and(|len| len > 8),
            _ => {}
        }
    }
    let signature = match (directory, cms) {
        (false, _) => Signature::Invalid("the signature has no CodeDirectory".to_owned()),
        (true, true) if flags & CS_ADHOC == 0 => Signature::Identity,
        (true, _) if flags & CS_ADHOC != 0 => Signature::AdHoc,
        (true, _) => Signature::Invalid(format!("CodeDirectory flags {flags:#x} are not ad-hoc and no CMS signature")),
    };
    (signature, flags)
}

fn pe_hardening<H: ImageNtHeaders>(data: ImageData<'_, '_>) -> object::Result<PeHardening> {
    let dos = pe::ImageDosHeader::parse(data)?;
    let mut offset = dos.nt_headers_offset().into();
    let (nt, directories) = H::parse(data, &mut offset)?;
    let dll = nt.optional_header().dll_characteristics();
    let file = nt.file_header();
    let sections = nt.sections(data, offset)?;
    let strings_start = file.pointer_to_symbol_table.get(LE) as u64 + file.number_of_symbols.get(LE) as u64 * 18;
    let strings = StringTable::new(data, strings_start, data.len().unwrap_or(0));
    let wx = pe::IMAGE_SCN_MEM_WRITE | pe::IMAGE_SCN_MEM_EXECUTE;
    let wx_sections = sections
        .iter()
        .filter(|s| s.characteristics.get(LE) & wx == wx)
        .map(|s| String::from_utf8_lossy(s.name(strings).unwrap_or(s.raw_name())).into_owned())
        .collect();
    Ok(PeHardening {
        dynamic_base: dll & pe::IMAGE_DLLCHARACTERISTICS_DYNAMIC_BASE != 0,
        high_entropy_va: dll & pe::IMAGE_DLLCHARACTERISTICS_HIGH_ENTROPY_VA != 0,
        nx_compat: dll & pe::IMAGE_DLLCHARACTERISTICS_NX_COMPAT != 0,
        guard_cf: dll & pe::IMAGE_DLLCHARACTERISTICS_GUARD_CF != 0,
        force_integrity: dll & pe::IMAGE_DLLCHARACTERISTICS_FORCE_INTEGRITY != 0,
        relocs_stripped: file.characteristics.get(LE) & pe::IMAGE_FILE_RELOCS_STRIPPED != 0,
        authenticode: directories.get(pe::IMAGE_DIRECTORY_ENTRY_SECURITY).is_some_and(|d| d.size.get(LE) > 0),
        wx_sections,
        symbols: file.number_of_symbols.get(LE) > 0,
    })
}
