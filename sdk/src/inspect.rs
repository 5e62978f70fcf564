//! Reading binaries with the `object` crate, through the host, a few pages at a time.
//!
//! [`Binary::open`] wraps an [`Artifact`] in `object`'s `ReadCache`, so parsing reads only what it touches (headers,
//! section tables, the odd note) instead of copying a 100 MB binary into the plugin. [`Binary::images`] yields one
//! image for a thin binary and one per slice for a universal (fat) Mach-O, so checks look at every architecture.

use std::io::{self, Read, Seek, SeekFrom};

use object::read::macho::{MachHeader, Section as _, Segment as _};
use object::read::pe::ImageNtHeaders;
use object::read::{ReadCache, ReadCacheRange, ReadRef, StringTable};
use object::{Endianness, FileKind, LittleEndian as LE, Object, elf, macho, pe};

use crate::Artifact;

/// The architectures [`Image`] and [`Embedded`] name, as `object` spells them ([`goarch`] gives go's name).
pub use object::Architecture;

/// The host caps one read at 16 MiB.
const MAX_READ: u64 = 16 << 20;

/// Where a binary's bytes come from: the host's [`Artifact`] inside a plugin; [`Bytes`] in tests and fuzzing,
/// which run the same inspection natively.
pub trait Source {
    /// The file's path, for messages.
    fn path(&self) -> String;
    fn size(&self) -> u64;
    /// Up to `len` bytes from `offset`; fewer at the end.
    fn read(&self, offset: u64, len: u32) -> Result<Vec<u8>, String>;
}

impl Source for Artifact {
    fn path(&self) -> String {
        Artifact::path(self)
    }

    fn size(&self) -> u64 {
        Artifact::size(self)
    }

    fn read(&self, offset: u64, len: u32) -> Result<Vec<u8>, String> {
        Artifact::read(self, offset, len)
    }
}

/// A binary held in memory.
pub struct Bytes<'d> {
    pub name: &'d str,
    pub data: &'d [u8],
}

impl Source for Bytes<'_> {
    fn path(&self) -> String {
        self.name.to_owned()
    }

    fn size(&self) -> u64 {
        self.data.len() as u64
    }

    fn read(&self, offset: u64, len: u32) -> Result<Vec<u8>, String> {
        let start = usize::try_from(offset).unwrap_or(usize::MAX).min(self.data.len());
        let end = start.saturating_add(len as usize).min(self.data.len());
        Ok(self.data[start..end].to_vec())
    }
}

/// `Read + Seek` over a [`Source`], each read one call (one host call for an artifact).
pub struct ArtifactReader<'a> {
    artifact: &'a dyn Source,
    size: u64,
    pos: u64,
}

impl<'a> ArtifactReader<'a> {
    pub fn new(artifact: &'a dyn Source) -> ArtifactReader<'a> {
        ArtifactReader { artifact, size: artifact.size(), pos: 0 }
    }
}

impl Read for ArtifactReader<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let len = (buf.len() as u64).min(MAX_READ).min(self.size.saturating_sub(self.pos));
        if len == 0 {
            return Ok(0);
        }
        let bytes = self.artifact.read(self.pos, len as u32).map_err(io::Error::other)?;
        let n = bytes.len().min(buf.len());
        buf[..n].copy_from_slice(&bytes[..n]);
        self.pos += n as u64;
        Ok(n)
    }
}

impl Seek for ArtifactReader<'_> {
    fn seek(&mut self, to: SeekFrom) -> io::Result<u64> {
        let target = match to {
            SeekFrom::Start(offset) => Some(offset),
            SeekFrom::End(delta) => self.size.checked_add_signed(delta),
            SeekFrom::Current(delta) => self.pos.checked_add_signed(delta),
        };
        self.pos = target.ok_or_else(|| io::Error::new(io::ErrorKind::InvalidInput, "seek out of range"))?;
        Ok(self.pos)
    }
}

/// The bytes of one image inside a binary, as `object` reads them.
pub type ImageData<'b, 'a> = ReadCacheRange<'b, ArtifactReader<'a>>;

/// A binary, read lazily.
pub struct Binary<'a> {
    source: &'a dyn Source,
    data: ReadCache<ArtifactReader<'a>>,
    size: u64,
    kind: FileKind,
}

/// One executable image: the whole file, or one slice of a universal Mach-O.
pub struct Image<'b, 'a> {
    /// Where the image starts in the file (0 unless it is a fat slice).
    pub offset: u64,
    pub size: u64,
    /// The architecture the fat header claims for the slice; for thin files, the file's own.
    pub architecture: Architecture,
    pub file: object::File<'b, ImageData<'b, 'a>>,
}

impl<'a> Binary<'a> {
    /// Recognizes the file's format. Fails, with a readable message, on anything that is not an object file.
    pub fn open(artifact: &'a dyn Source) -> Result<Binary<'a>, String> {
        let reader = ArtifactReader::new(artifact);
        let size = reader.size;
        let data = ReadCache::new(reader);
        let kind =
            FileKind::parse(&data).map_err(|e| format!("{}: not a binary gohook can read ({e})", artifact.path()))?;
        Ok(Binary { source: artifact, data, size, kind })
    }

    pub fn kind(&self) -> FileKind {
        self.kind
    }

    /// The raw file, for reads the helpers do not cover.
    pub fn data(&self) -> &ReadCache<ArtifactReader<'a>> {
        &self.data
    }

    /// Every image, fully parsed by `object` (symbol tables included): one for a thin binary, one per slice of a
    /// universal Mach-O.
    pub fn images(&self) -> Result<Vec<Image<'_, 'a>>, String> {
        self.image_ranges()?
            .into_iter()
            .map(|(offset, size, claimed)| {
                let range = self.data.range(offset, size);
                let file = object::File::parse(range).map_err(|e| format!("image at offset {offset}: {e}"))?;
                let architecture = claimed.unwrap_or_else(|| file.architecture());
                Ok(Image { offset, size, architecture, file })
            })
            .collect()
    }

    /// The byte ranges of the images: the whole file, or each slice of a universal Mach-O.
    pub(crate) fn image_ranges(&self) -> Result<Vec<(u64, u64, Option<Architecture>)>, String> {
        Ok(match self.kind {
            FileKind::MachOFat32 => fat_slices::<object::macho::FatArch32>(&self.data)?,
            FileKind::MachOFat64 => fat_slices::<object::macho::FatArch64>(&self.data)?,
            _ => vec![(0, self.size, None)],
        })
    }

    /// The section names of every image. Reads only headers and name tables: unlike [`Binary::images`], which
    /// parses symbol tables too, this stays cheap on a 100 MB binary.
    pub fn section_names(&self) -> Result<Vec<String>, String> {
        let mut names = Vec::new();
        self.each_image(|reader, data| (reader.section_names)(data, &mut names))?;
        Ok(names)
    }

    /// Puts one question to every image, through the reader of the image's format.
    fn each_image<T>(
        &self,
        mut ask: impl FnMut(&Reader, ImageData<'_, 'a>) -> object::Result<T>,
    ) -> Result<Vec<(u64, T)>, String> {
        let mut answers = Vec::new();
        for (offset, size, _) in self.image_ranges()? {
            let data = self.data.range(offset, size);
            let text = |e: object::Error| format!("image at offset {offset}: {e}");
            let kind = FileKind::parse(data).map_err(text)?;
            let reader =
                Reader::of(kind).ok_or_else(|| format!("image at offset {offset}: unsupported format {kind:?}"))?;
            answers.push((offset, ask(&reader, data).map_err(text)?));
        }
        Ok(answers)
    }
}

/// The readers of one format family. [`Reader::of`] is the one place that lists the formats gohook reads: a new
/// binary format is one implementation of [`Format`] and one arm there.
struct Reader {
    section_names: fn(ImageData<'_, '_>, &mut Vec<String>) -> object::Result<()>,
    symbol_table: fn(ImageData<'_, '_>) -> object::Result<(bool, String)>,
    facts: fn(ImageData<'_, '_>) -> object::Result<ImageFacts>,
}

impl Reader {
    fn of(kind: FileKind) -> Option<Reader> {
        Some(match kind {
            FileKind::Elf32 => Reader::new::<Elf<elf::FileHeader32<Endianness>>>(),
            FileKind::Elf64 => Reader::new::<Elf<elf::FileHeader64<Endianness>>>(),
            FileKind::MachO32 => Reader::new::<MachO<macho::MachHeader32<Endianness>>>(),
            FileKind::MachO64 => Reader::new::<MachO<macho::MachHeader64<Endianness>>>(),
            FileKind::Pe32 => Reader::new::<Pe<pe::ImageNtHeaders32>>(),
            FileKind::Pe64 => Reader::new::<Pe<pe::ImageNtHeaders64>>(),
            _ => return None,
        })
    }

    fn new<F: Format>() -> Reader {
        Reader { section_names: F::section_names, symbol_table: F::symbol_table, facts: F::facts }
    }
}

/// What the checks read from one image of a format family (generic over its header layout: 32/64-bit, endianness).
trait Format {
    fn section_names(data: ImageData<'_, '_>, names: &mut Vec<String>) -> object::Result<()>;
    /// Whether a symbol table is present, and what was found, for messages.
    fn symbol_table(data: ImageData<'_, '_>) -> object::Result<(bool, String)>;
    fn facts(data: ImageData<'_, '_>) -> object::Result<ImageFacts>;
}

struct Elf<Header>(std::marker::PhantomData<Header>);
struct MachO<Header>(std::marker::PhantomData<Header>);
struct Pe<Headers>(std::marker::PhantomData<Headers>);

impl<H: object::read::elf::FileHeader<Endian = Endianness>> Format for Elf<H> {
    fn section_names(data: ImageData<'_, '_>, names: &mut Vec<String>) -> object::Result<()> {
        let header = H::parse(data)?;
        let endian = header.endian()?;
        let sections = header.sections(endian, data)?;
        for section in sections.iter() {
            names.push(String::from_utf8_lossy(sections.section_name(endian, section)?).into_owned());
        }
        Ok(())
    }

    /// `SHT_SYMTAB`; `.dynsym` is normal in PIE and cgo binaries, and no section headers at all counts as stripped.
    fn symbol_table(data: ImageData<'_, '_>) -> object::Result<(bool, String)> {
        use object::read::elf::SectionHeader as _;
        let header = H::parse(data)?;
        let endian = header.endian()?;
        let sections = header.sections(endian, data)?;
        if sections.is_empty() {
            return Ok((false, "no section headers".to_owned()));
        }
        for section in sections.iter() {
            if section.sh_type(endian) == elf::SHT_SYMTAB {
                let entries = section.sh_size(endian).into() / section.sh_entsize(endian).into().max(1);
                let name = String::from_utf8_lossy(sections.section_name(endian, section)?).into_owned();
                return Ok((true, format!("symbol table {name} with {entries} entries")));
            }
        }
        Ok((false, "no SHT_SYMTAB section".to_owned()))
    }

    fn facts(data: ImageData<'_, '_>) -> object::Result<ImageFacts> {
        use object::read::elf::{Dyn as _, ProgramHeader as _, SectionHeader as _};
        let header = H::parse(data)?;
        let endian = header.endian()?;
        let segments = header.program_headers(endian, data)?;
        let interp = segments.iter().any(|p| p.p_type(endian) == elf::PT_INTERP);
        let mut flags_1 = 0u64;
        for segment in segments {
            if let Some(entries) = segment.dynamic(endian, data)? {
                for entry in entries {
                    if entry.d_tag(endian).into() == elf::DT_FLAGS_1 as u64 {
                        flags_1 = entry.d_val(endian).into();
                    }
                }
            }
        }
        let pie = match header.e_type(endian) {
            elf::ET_EXEC => Pie::NotPie("ELF type is ET_EXEC (fixed load address)".to_owned()),
            elf::ET_DYN if flags_1 & elf::DF_1_PIE as u64 != 0 => {
                if interp {
                    Pie::Pie
                } else {
                    Pie::StaticPie
                }
            }
            elf::ET_DYN if interp => Pie::Pie,
            elf::ET_DYN => Pie::SharedObject,
            other => Pie::NotPie(format!("ELF type {other} is not an executable")),
        };
        let sections = header.sections(endian, data)?;
        let mut go_build_id = None;
        if let Some((_, section)) = sections.section_by_name(endian, b".note.go.buildid")
            && let Some(mut notes) = section.notes(endian, data)?
        {
            while let Some(note) = notes.next()? {
                if note.name() == b"Go" && note.n_type(endian) == 4 {
                    go_build_id = Some(String::from_utf8_lossy(note.desc()).into_owned());
                }
            }
        }
        Ok(ImageFacts {
            offset: 0,
            goarch: elf_goarch(header.e_machine(endian), header.is_class_64()),
            pie,
            go_build_id,
            uuid: None,
            code_signature: None,
        })
    }
}

impl<H: MachHeader<Endian = Endianness>> Format for MachO<H> {
    fn section_names(data: ImageData<'_, '_>, names: &mut Vec<String>) -> object::Result<()> {
        let header = H::parse(data, 0)?;
        let endian = header.endian()?;
        let mut commands = header.load_commands(endian, data, 0)?;
        while let Some(command) = commands.next()? {
            if let Some((segment, section_data)) = H::Segment::from_command(command)? {
                for section in segment.sections(endian, section_data)? {
                    names.push(String::from_utf8_lossy(section.name()).into_owned());
                }
            }
        }
        Ok(())
    }

    /// Local symbols (`LC_DYSYMTAB.nlocalsym`) or stab entries; `nsyms` alone is wrong, Go keeps undefined imports.
    fn symbol_table(data: ImageData<'_, '_>) -> object::Result<(bool, String)> {
        use object::read::macho::Nlist as _;
        let header = H::parse(data, 0)?;
        let endian = header.endian()?;
        let mut commands = header.load_commands(endian, data, 0)?;
        let (mut local, mut stabs) = (0u32, 0usize);
        while let Some(command) = commands.next()? {
            if let Some(dysymtab) = command.dysymtab()? {
                local = dysymtab.nlocalsym.get(endian);
            }
            if let Some(symtab) = command.symtab()? {
                let symbols = symtab.symbols::<H, _>(endian, data)?;
                stabs = symbols.iter().filter(|nlist| nlist.n_type() & macho::N_STAB != 0).count();
            }
        }
        Ok((local > 0 || stabs > 0, format!("{local} local symbols and {stabs} debug (stab) entries")))
    }

    fn facts(data: ImageData<'_, '_>) -> object::Result<ImageFacts> {
        let header = H::parse(data, 0)?;
        let endian = header.endian()?;
        let pie = if header.filetype(endian) != macho::MH_EXECUTE {
            Pie::NotPie("H-O file type is not MH_EXECUTE".to_owned())
        } else if header.flags(endian) & macho::MH_PIE == 0 {
            Pie::NotPie("MH_PIE flag not set".to_owned())
        } else {
            Pie::Pie
        };
        let (mut uuid, mut code_signature, mut go_build_id) = (false, false, None);
        let mut commands = header.load_commands(endian, data, 0)?;
        while let Some(command) = commands.next()? {
            match command.cmd() {
                macho::LC_UUID => uuid = true,
                macho::LC_CODE_SIGNATURE => code_signature = true,
                _ => {}
            }
            if let Some((segment, section_data)) = H::Segment::from_command(command)? {
                for section in segment.sections(endian, section_data)? {
                    if section.name() == b"__text" && section.segment_name() == b"__TEXT" {
                        go_build_id = text_build_id(data, section.offset(endian).into(), section.size(endian).into());
                    }
                }
            }
        }
        let goarch = match header.cputype(endian) {
            macho::CPU_TYPE_ARM64 => Some("arm64"),
            macho::CPU_TYPE_X86_64 => Some("amd64"),
            macho::CPU_TYPE_X86 => Some("386"),
            _ => None,
        };
        Ok(ImageFacts { offset: 0, goarch, pie, go_build_id, uuid: Some(uuid), code_signature: Some(code_signature) })
    }
}

impl<H: ImageNtHeaders> Format for Pe<H> {
    fn section_names(data: ImageData<'_, '_>, names: &mut Vec<String>) -> object::Result<()> {
        let dos = pe::ImageDosHeader::parse(data)?;
        let mut offset = dos.nt_headers_offset().into();
        let (nt, _) = H::parse(data, &mut offset)?;
        let sections = nt.sections(data, offset)?;
        // Long names ("/N") point into the COFF string table, which follows the symbol table (18 bytes a symbol).
        let file = nt.file_header();
        let strings_start = file.pointer_to_symbol_table.get(LE) as u64 + file.number_of_symbols.get(LE) as u64 * 18;
        let strings = StringTable::new(data, strings_start, data.len().unwrap_or(0));
        for section in sections.iter() {
            names.push(String::from_utf8_lossy(section.name(strings)?).into_owned());
        }
        Ok(())
    }

    /// `NumberOfSymbols`; `PointerToSymbolTable` stays set in stripped Go binaries.
    fn symbol_table(data: ImageData<'_, '_>) -> object::Result<(bool, String)> {
        let dos = pe::ImageDosHeader::parse(data)?;
        let mut offset = dos.nt_headers_offset().into();
        let (nt, _) = H::parse(data, &mut offset)?;
        let count = nt.file_header().number_of_symbols.get(LE);
        Ok((count > 0, format!("{count} COFF symbols")))
    }

    fn facts(data: ImageData<'_, '_>) -> object::Result<ImageFacts> {
        use object::read::pe::ImageOptionalHeader as _;
        let dos = pe::ImageDosHeader::parse(data)?;
        let mut offset = dos.nt_headers_offset().into();
        let (nt, directories) = H::parse(data, &mut offset)?;
        let characteristics = nt.file_header().characteristics.get(LE);
        let dll = nt.optional_header().dll_characteristics();
        let relocations = directories.get(pe::IMAGE_DIRECTORY_ENTRY_BASERELOC).map_or(0, |d| d.size.get(LE));
        let pie = if dll & pe::IMAGE_DLLCHARACTERISTICS_DYNAMIC_BASE == 0 {
            Pie::NotPie("DYNAMIC_BASE not set".to_owned())
        } else if characteristics & pe::IMAGE_FILE_RELOCS_STRIPPED != 0 || relocations == 0 {
            Pie::NotPie("base relocations stripped: the image cannot move".to_owned())
        } else if nt.is_type_64() && dll & pe::IMAGE_DLLCHARACTERISTICS_HIGH_ENTROPY_VA == 0 {
            Pie::NotPie("HIGH_ENTROPY_VA not set on a 64-bit image".to_owned())
        } else {
            Pie::Pie
        };
        let sections = nt.sections(data, offset)?;
        let go_build_id = sections.iter().find(|s| s.raw_name() == b".text").and_then(|text| {
            text_build_id(data, text.pointer_to_raw_data.get(LE).into(), text.size_of_raw_data.get(LE).into())
        });
        let goarch = match nt.file_header().machine.get(LE) {
            pe::IMAGE_FILE_MACHINE_AMD64 => Some("amd64"),
            pe::IMAGE_FILE_MACHINE_ARM64 => Some("arm64"),
            pe::IMAGE_FILE_MACHINE_I386 => Some("386"),
            _ => None,
        };
        Ok(ImageFacts { offset: 0, goarch, pie, go_build_id, uuid: None, code_signature: None })
    }
}

/// Whether one image carries a symbol table, by the rules of reference/checks.md (not the naive ones).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SymbolTable {
    /// Where the image starts in the file.
    pub offset: u64,
    pub present: bool,
    /// What was found, for messages: "`.symtab` with 1234 entries", "no COFF symbols", …
    pub detail: String,
}

impl Binary<'_> {
    /// The symbol table verdict of every image.
    ///
    /// ELF: a `SHT_SYMTAB` section (`.dynsym` is normal in PIE and cgo binaries; no section headers at all counts as
    /// stripped). Mach-O: local symbols (`LC_DYSYMTAB.nlocalsym`) or debug (stab) entries; `nsyms` alone is wrong, Go
    /// keeps undefined imports. PE: `NumberOfSymbols`; `PointerToSymbolTable` stays set in stripped Go binaries.
    pub fn symbol_tables(&self) -> Result<Vec<SymbolTable>, String> {
        let tables = self.each_image(|reader, data| (reader.symbol_table)(data))?;
        Ok(tables.into_iter().map(|(offset, (present, detail))| SymbolTable { offset, present, detail }).collect())
    }

    /// The DWARF sections of every image: `.debug_*`/`.zdebug_*` (ELF, PE long names resolved) and
    /// `__debug_*`/`__zdebug_*` (Mach-O, in the `__DWARF` segment).
    pub fn dwarf_sections(&self) -> Result<Vec<String>, String> {
        Ok(self.section_names()?.into_iter().filter(|name| is_dwarf_section(name)).collect())
    }
}

/// How an image is laid out for ASLR, by the rules of reference/checks.md.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Pie {
    Pie,
    /// ELF `ET_DYN` with `DF_1_PIE` and no interpreter.
    StaticPie,
    /// An ELF shared object rather than an executable.
    SharedObject,
    /// Not position independent; the text says why.
    NotPie(String),
}

/// Header facts of one image that the `pie`, `buildid` and `macho` checks decide on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImageFacts {
    pub offset: u64,
    /// The GOARCH of the image's header (ELF e_machine, Mach-O cputype, PE Machine), where go has a name for it.
    pub goarch: Option<&'static str>,
    pub pie: Pie,
    /// Go's build ID (ELF `Go` note type 4; Mach-O and PE: the marker at the start of the text).
    pub go_build_id: Option<String>,
    /// Mach-O only: whether `LC_UUID` is present.
    pub uuid: Option<bool>,
    /// Mach-O only: whether `LC_CODE_SIGNATURE` is present.
    pub code_signature: Option<bool>,
}

impl Binary<'_> {
    /// The header facts of every image.
    pub fn facts(&self) -> Result<Vec<ImageFacts>, String> {
        let facts = self.each_image(|reader, data| (reader.facts)(data))?;
        Ok(facts.into_iter().map(|(offset, image)| ImageFacts { offset, ..image }).collect())
    }
}

/// Go writes `\xff Go build ID: "<id>"\n \xff` at the start of the text on Mach-O and PE.
fn text_build_id(data: ImageData<'_, '_>, text_offset: u64, text_size: u64) -> Option<String> {
    const MARKER: &[u8] = b"\xff Go build ID: \"";
    let head = data.read_bytes_at(text_offset, text_size.min(4096)).ok()?;
    let start = head.windows(MARKER.len()).position(|w| w == MARKER)? + MARKER.len();
    let end = head[start..].iter().position(|&b| b == b'"')? + start;
    Some(String::from_utf8_lossy(&head[start..end]).into_owned())
}

fn elf_goarch(machine: u16, class_64: bool) -> Option<&'static str> {
    Some(match (machine, class_64) {
        (elf::EM_X86_64, true) => "amd64",
        (elf::EM_AARCH64, true) => "arm64",
        (elf::EM_386, false) => "386",
        (elf::EM_ARM, false) => "arm",
        (elf::EM_RISCV, true) => "riscv64",
        (elf::EM_PPC64, true) => "ppc64",
        (elf::EM_S390, true) => "s390x",
        (elf::EM_LOONGARCH, true) => "loong64",
        _ => return None,
    })
}

/// What `go version -m` shows: the toolchain and the build settings Go recorded in the binary.
///
/// It corroborates and explains; it never decides a check (`-ldflags` is omitted under `-trimpath`, UPX hides it,
/// and default builds that are PIE still say `-buildmode=exe`).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct BuildInfo {
    pub go_version: String,
    /// `build` lines of the module info in order: `-buildmode`, `-ldflags`, `-trimpath`, `CGO_ENABLED`, `GOOS`, …
    pub settings: Vec<(String, String)>,
    /// The main module path, if recorded.
    pub main_module: Option<String>,
    /// The main package's import path (`path` line).
    pub main_package: Option<String>,
    /// The main module's version (`(devel)` for a working tree) and its `h1:` sum, when go stamped one.
    pub main_version: Option<String>,
    /// Every module linked in (`dep` lines), in go's order.
    pub deps: Vec<ModuleDep>,
}

/// One `dep` line of the build info: a module linked into the binary, and what `replace` put in its place.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ModuleDep {
    pub path: String,
    pub version: String,
    /// go.sum's `h1:` hash; empty for a module replaced by a directory.
    pub sum: String,
    pub replace: Option<Box<ModuleDep>>,
}

impl BuildInfo {
    pub fn setting(&self, key: &str) -> Option<&str> {
        self.settings.iter().find(|(k, _)| k == key).map(|(_, v)| v.as_str())
    }
}

impl Binary<'_> {
    /// The Go build info of every image that has one (Go 1.18+ layout: inline strings).
    pub fn build_info(&self) -> Result<Vec<BuildInfo>, String> {
        let mut infos = Vec::new();
        for (offset, size, _) in self.image_ranges()? {
            let data = self.data.range(offset, size);
            // The blob sits in .go.buildinfo (ELF), __go_buildinfo (Mach-O) or the first writable data section (PE):
            // find the section by name, else scan the start of every section for the magic.
            let Some(region) = buildinfo_region(data).map_err(|e| format!("image at offset {offset}: {e}"))? else {
                continue;
            };
            if let Some(info) = parse_build_info(region) {
                infos.push(info);
            }
        }
        Ok(infos)
    }
}

/// The section holding the build info, from its magic on (found in the section's first 64 KiB).
fn buildinfo_region<'d>(data: ImageData<'d, '_>) -> Result<Option<&'d [u8]>, String> {
    let file = object::read::File::parse(data).map_err(|e| e.to_string())?;
    use object::{Object as _, ObjectSection as _};
    let candidates: Vec<(u64, u64)> = file
        .sections()
        .filter(|s| {
            let name = s.name().unwrap_or("");
            name == ".go.buildinfo" || name == "__go_buildinfo" || name == ".data"
        })
        .filter_map(|s| s.file_range())
        .collect();
    for (start, len) in candidates {
        // A module with a thousand dependencies has more than 64 KiB of module info: the blob runs to the section's end.
        let bytes = data.read_bytes_at(start, len).map_err(|()| "build info section out of range".to_owned())?;
        let head = bytes.len().min(64 << 10);
        let found = (0..head.saturating_sub(32)).step_by(16).find(|&at| bytes[at..].starts_with(b"\xff Go buildinf:"));
        if let Some(at) = found {
            return Ok(Some(&bytes[at..]));
        }
    }
    Ok(None)
}

fn parse_build_info(blob: &[u8]) -> Option<BuildInfo> {
    // 32-byte header; flag bit 1 means the two strings follow inline (Go 1.18+).
    if blob.len() < 32 || blob[15] & 2 == 0 {
        return None;
    }
    let mut rest = &blob[32..];
    let mut next_bytes = || -> Option<&[u8]> {
        let (len, used) = uvarint(rest)?;
        let end = used.checked_add(usize::try_from(len).ok()?)?;
        let bytes = rest.get(used..end)?;
        rest = &rest[end..];
        Some(bytes)
    };
    let go_version = String::from_utf8_lossy(next_bytes()?).into_owned();
    let modinfo = next_bytes().unwrap_or_default();
    // The module info is wrapped in 16-byte sentinels; strip them before decoding, which may change byte offsets
    // (found by fuzzing: slicing the decoded text panicked inside a replacement character).
    let modinfo = if modinfo.len() >= 33 { &modinfo[16..modinfo.len() - 16] } else { &[][..] };
    let modinfo = String::from_utf8_lossy(modinfo);
    let mut info = BuildInfo { go_version, ..BuildInfo::default() };
    for line in modinfo.lines() {
        let mut fields = line.splitn(2, '\t');
        match (fields.next(), fields.next()) {
            (Some("path"), Some(rest)) => info.main_package = Some(rest.to_owned()),
            (Some("mod"), Some(rest)) => {
                let mut fields = rest.split('\t');
                info.main_module = fields.next().map(str::to_owned);
                info.main_version = fields.next().map(str::to_owned);
            }
            (Some("dep"), Some(rest)) => info.deps.push(module_dep(rest)),
            (Some("=>"), Some(rest)) => {
                if let Some(dep) = info.deps.last_mut() {
                    dep.replace = Some(Box::new(module_dep(rest)));
                }
            }
            (Some("build"), Some(setting)) => {
                if let Some((key, value)) = setting.split_once('=') {
                    info.settings.push((key.to_owned(), value.trim_matches('"').to_owned()));
                }
            }
            _ => {}
        }
    }
    Some(info)
}

impl ModuleDep {
    /// Whether this is a directory on disk (a `replace` by `./x`, `../x` or an absolute path), not a module version:
    /// go's `modfile.IsDirectoryPath`.
    pub fn is_directory(&self) -> bool {
        let path = self.path.as_str();
        path == "."
            || path == ".."
            || ["./", "../", "/", ".\\", "..\\"].iter().any(|p| path.starts_with(p))
            || path.as_bytes().get(1..3) == Some(b":\\")
    }
}

fn module_dep(fields: &str) -> ModuleDep {
    let mut fields = fields.split('\t').map(str::to_owned);
    ModuleDep {
        path: fields.next().unwrap_or_default(),
        version: fields.next().unwrap_or_default(),
        sum: fields.next().unwrap_or_default(),
        replace: None,
    }
}

fn uvarint(bytes: &[u8]) -> Option<(u64, usize)> {
    let mut value = 0u64;
    for (i, &byte) in bytes.iter().enumerate().take(10) {
        value |= u64::from(byte & 0x7f) << (7 * i);
        if byte & 0x80 == 0 {
            return Some((value, i + 1));
        }
    }
    None
}

pub fn is_dwarf_section(name: &str) -> bool {
    [".debug_", ".zdebug_", "__debug_", "__zdebug_"].iter().any(|prefix| name.starts_with(prefix))
}

fn fat_slices<Fat: object::read::macho::FatArch>(
    data: &ReadCache<ArtifactReader<'_>>,
) -> Result<Vec<(u64, u64, Option<Architecture>)>, String> {
    let fat = object::read::macho::MachOFatFile::<Fat>::parse(data).map_err(|e| e.to_string())?;
    Ok(fat.arches().iter().map(|a| (a.offset().into(), a.size().into(), Some(a.architecture()))).collect())
}

/// An executable inside another one's data: a `go:embed`'d helper, say.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Embedded {
    /// Where its header starts in the outer file.
    pub offset: u64,
    /// `ELF`, `Mach-O`, `universal Mach-O` or `PE`.
    pub format: &'static str,
    /// Its architecture; one per slice for a universal Mach-O.
    pub architectures: Vec<Architecture>,
}

impl Binary<'_> {
    /// The executables embedded in each image's data sections (read-only and writable: go puts a `go:embed` string
    /// in the first, a byte slice in the second), by the offset of the image they are in. A header counts only when
    /// `object` parses the whole file behind it, so a stray magic number in a string table is not one. The data is
    /// read a window at a time and never kept: a binary with 100 MB of data fits a plugin's memory.
    pub fn embedded_executables(&self) -> Result<Vec<(u64, Embedded)>, String> {
        use object::{ObjectSection as _, SectionKind};
        let mut found = Vec::new();
        for image in self.images()? {
            let data_kinds = [
                SectionKind::Data,
                SectionKind::ReadOnlyData,
                SectionKind::ReadOnlyDataWithRel,
                SectionKind::ReadOnlyString,
            ];
            // go's own tables (a third of a large Go binary is the pc-line table) never hold an embedded file.
            let go_tables = ["gopclntab", "typelink", "itablink", "go.buildinfo", "go_buildinfo"];
            let holds_data = |s: &object::Section<'_, '_, ImageData<'_, '_>>| {
                let name = s.name().unwrap_or("").trim_start_matches(['.', '_']);
                data_kinds.contains(&s.kind()) && !go_tables.contains(&name)
            };
            for section in image.file.sections().filter(holds_data) {
                if let Some((start, len)) = section.file_range() {
                    let embedded = embedded_in(self.source, image.offset + start, len)?;
                    found.extend(embedded.into_iter().map(|e| (image.offset, e)));
                }
            }
        }
        Ok(found)
    }
}

/// How much of the data one read brings in, and how far a header may reach past where its magic starts before the
/// next window takes over (a PE header's `e_lfanew` is below it in every linker's output).
const WINDOW: u64 = 1 << 20;
const LOOKAHEAD: u64 = 4096;

/// The executables whose headers start in `source[start..start + len]`.
fn embedded_in(source: &dyn Source, start: u64, len: u64) -> Result<Vec<Embedded>, String> {
    let end = start.saturating_add(len).min(source.size());
    let mut found = Vec::new();
    let mut at = start;
    while at < end {
        let window = source.read(at, (WINDOW + LOOKAHEAD).min(end - at) as u32)?;
        let last = at + WINDOW >= end;
        let scan = if last { window.len() } else { WINDOW as usize };
        for (i, &first) in window[..scan.min(window.len())].iter().enumerate() {
            if matches!(first, 0x7f | 0xce | 0xcf | 0xfe | 0xca | b'M') && looks_like_a_header(&window[i..]) {
                found.extend(parse_embedded(source, at + i as u64, end));
            }
        }
        at += WINDOW;
    }
    Ok(found)
}

/// The cheap test before a parse: a known magic number and sane fields right after it.
fn looks_like_a_header(bytes: &[u8]) -> bool {
    match bytes {
        // ELF: class 32/64, little/big endian, version 1.
        [0x7f, b'E', b'L', b'F', 1 | 2, 1 | 2, 1, ..] => true,
        // Mach-O 32/64, either byte order.
        [0xce | 0xcf, 0xfa, 0xed, 0xfe, ..] | [0xfe, 0xed, 0xfa, 0xce | 0xcf, ..] => true,
        // Universal Mach-O: a handful of slices (Java class files share the magic, with a version there).
        [0xca, 0xfe, 0xba, 0xbe | 0xbf, 0, 0, 0, 1..=8, ..] => true,
        // PE: "MZ", then "PE\0\0" where e_lfanew points.
        [b'M', b'Z', ..] if bytes.len() >= 0x40 => {
            let lfanew = u32::from_le_bytes(bytes[0x3c..0x40].try_into().unwrap()) as usize;
            bytes.get(lfanew..lfanew + 4) == Some(b"PE\0\0")
        }
        _ => false,
    }
}

/// The executable whose header is at `offset`, if `object` can read all of it before `end`.
fn parse_embedded(source: &dyn Source, offset: u64, end: u64) -> Option<Embedded> {
    let cache = ReadCache::new(ArtifactReader::new(source));
    let data = cache.range(offset, end - offset);
    let (format, architectures) = match FileKind::parse(data).ok()? {
        FileKind::MachOFat32 => ("universal Mach-O", fat_architectures::<object::macho::FatArch32>(data)?),
        FileKind::MachOFat64 => ("universal Mach-O", fat_architectures::<object::macho::FatArch64>(data)?),
        kind @ (FileKind::Elf32
        | FileKind::Elf64
        | FileKind::MachO32
        | FileKind::MachO64
        | FileKind::Pe32
        | FileKind::Pe64) => {
            let file = object::File::parse(data).ok()?;
            let format = match kind {
                FileKind::Elf32 | FileKind::Elf64 => "ELF",
                FileKind::MachO32 | FileKind::MachO64 => "Mach-O",
                _ => "PE",
            };
            (format, vec![file.architecture()])
        }
        _ => return None,
    };
    let known = architectures.iter().all(|a| *a != Architecture::Unknown) && !architectures.is_empty();
    known.then_some(Embedded { offset, format, architectures })
}

fn fat_architectures<Fat: object::read::macho::FatArch>(data: ImageData<'_, '_>) -> Option<Vec<Architecture>> {
    let fat = object::read::macho::MachOFatFile::<Fat>::parse(data).ok()?;
    let arches = fat.arches();
    // Every slice must be a Mach-O where the header says.
    let slices_read = arches.iter().all(|a| {
        let (offset, size) = (a.offset().into(), a.size().into());
        matches!(FileKind::parse_at(data, offset), Ok(FileKind::MachO32 | FileKind::MachO64)) && size > 0
    });
    slices_read.then(|| arches.iter().map(|a| a.architecture()).collect())
}

/// go's name for an architecture (`GOARCH`), where there is one.
pub fn goarch(architecture: Architecture) -> Option<&'static str> {
    Some(match architecture {
        Architecture::X86_64 => "amd64",
        Architecture::Aarch64 => "arm64",
        Architecture::I386 => "386",
        Architecture::Arm => "arm",
        Architecture::Riscv64 => "riscv64",
        Architecture::PowerPc64 => "ppc64",
        Architecture::S390x => "s390x",
        Architecture::LoongArch64 => "loong64",
        Architecture::Mips => "mips",
        Architecture::Mips64 => "mips64",
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_replacement_is_a_directory_as_go_reads_one() {
        let dep = |path: &str| ModuleDep { path: path.to_owned(), ..ModuleDep::default() };
        for directory in ["../lib", "./lib", "/abs/lib", ".", "..", "..\\lib", "C:\\lib"] {
            assert!(dep(directory).is_directory(), "{directory}");
        }
        for module in ["example.com/lib", "golang.org/x/net", ".hidden.example/x"] {
            assert!(!dep(module).is_directory(), "{module}");
        }
    }

    fn blob(modinfo: &[u8]) -> Vec<u8> {
        let mut blob = b"\xff Go buildinf:".to_vec();
        blob.extend_from_slice(&[8, 2]);
        blob.resize(32, 0);
        for text in [&b"go1.26.8"[..], modinfo] {
            blob.push(text.len() as u8);
            blob.extend_from_slice(text);
        }
        blob
    }

    /// Regression (fuzz target `inspect`): an invalid UTF-8 byte just before the end of the leading sentinel
    /// made the sentinel strip slice into a replacement character and panic.
    #[test]
    fn invalid_utf8_in_the_sentinel_does_not_panic() {
        let mut modinfo = b"xxxxxxxxxxxxxxx\xff".to_vec();
        modinfo.extend_from_slice(b"path\tex\nmod\tex\t(devel)\t\nbuild\tGOOS=linux\n");
        modinfo.extend_from_slice(&[b'y'; 16]);
        let info = parse_build_info(&blob(&modinfo)).unwrap();
        assert_eq!(info.go_version, "go1.26.8");
        assert_eq!(info.main_module.as_deref(), Some("ex"));
        assert_eq!(info.settings, [("GOOS".to_owned(), "linux".to_owned())]);
    }

    /// `dep` lines are the modules linked in; a `=>` line replaces the `dep` before it.
    #[test]
    fn modules_and_their_replacements_are_read_as_go_version_m_shows_them() {
        let mut modinfo = vec![b'x'; 16];
        modinfo.extend_from_slice(
            b"path\te/c\nmod\te\tv1\th1:m\ndep\ta/x\tv2\th1:x\ndep\tb/y\tv3\t\n=>\t../y\t(devel)\t\n",
        );
        modinfo.extend_from_slice(&[b'y'; 16]);
        let info = parse_build_info(&blob(&modinfo)).unwrap();
        assert_eq!((info.main_package.as_deref(), info.main_version.as_deref()), (Some("e/c"), Some("v1")));
        let dep = |path: &str, version: &str, sum: &str| ModuleDep {
            path: path.to_owned(),
            version: version.to_owned(),
            sum: sum.to_owned(),
            replace: None,
        };
        let replaced = ModuleDep { replace: Some(Box::new(dep("../y", "(devel)", ""))), ..dep("b/y", "v3", "") };
        assert_eq!(info.deps, [dep("a/x", "v2", "h1:x"), replaced]);
        assert!(info.deps[1].replace.as_ref().unwrap().is_directory());
    }

    fn tiny_elf(machine: u16) -> Vec<u8> {
        let mut elf = vec![0u8; 64];
        elf[..7].copy_from_slice(&[0x7f, b'E', b'L', b'F', 2, 1, 1]);
        elf[16..18].copy_from_slice(&2u16.to_le_bytes()); // ET_EXEC
        elf[18..20].copy_from_slice(&machine.to_le_bytes());
        elf[20..24].copy_from_slice(&1u32.to_le_bytes());
        elf[52..54].copy_from_slice(&64u16.to_le_bytes()); // e_ehsize
        elf
    }

    /// An ELF header in the middle of other data is found at its offset, with its machine; the magic alone (as in
    /// debug/elf's `ELFMAG` string) is not an executable.
    #[test]
    fn embedded_headers_are_found_and_stray_magic_is_not() {
        let mut data = b"strings \x7fELF and more strings".to_vec();
        data.extend_from_slice(b"\x7fELF\x02\x01\x01 and garbage after it that parses as nothing at all.....");
        let at = data.len();
        data.extend(tiny_elf(elf::EM_AARCH64));
        data.extend_from_slice(&[0u8; 100]);
        let source = Bytes { name: "data", data: &data };
        let found = embedded_in(&source, 0, data.len() as u64).unwrap();
        let expected = Embedded { offset: at as u64, format: "ELF", architectures: vec![Architecture::Aarch64] };
        assert_eq!(found, [expected]);
    }

    /// A header that starts just before a window's end is read across it, once.
    #[test]
    fn a_header_across_a_window_boundary_is_found_once() {
        let mut data = vec![0u8; WINDOW as usize - 10];
        data.extend(tiny_elf(elf::EM_X86_64));
        data.extend_from_slice(&[0u8; 64]);
        let source = Bytes { name: "data", data: &data };
        let found = embedded_in(&source, 0, data.len() as u64).unwrap();
        assert_eq!(found.iter().map(|e| e.offset).collect::<Vec<_>>(), [WINDOW - 10]);
        assert_eq!(found[0].architectures, [Architecture::X86_64]);
    }

    #[test]
    fn string_lengths_past_the_end_are_refused() {
        let mut bad = blob(b"");
        bad.truncate(32);
        bad.extend_from_slice(&[0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01]);
        assert!(parse_build_info(&bad).is_none());
    }
}
