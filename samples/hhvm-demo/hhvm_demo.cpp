// hhvm_demo: a tiny program that *looks like HHVM* to Linux perf.
//
// Story told by a perf profile of it:  "HPHP::f_sort is hot under PHP::Api_Handler::respond".
//
//   * C++ "runtime" functions live in namespace HPHP (HPHP::f_sort, HPHP::f_json_encode,
//     HPHP::f_str_replace, HPHP::MemoryManager::mallocSmall, HPHP::VanillaDict::set, ...).
//   * A real (tiny) JIT emits x86-64 machine code for "PHP functions" into an anonymous
//     RWX mapping (perf sees it as //anon and names it from /tmp/perf-<pid>.map), and writes
//     that map exactly like HHVM does: "%lx %x %s\n" per code range, fflush after each line.
//     Names follow HHVM with Eval.PerfPidMapIncludeFilePath=0 ("PHP::Class::method") and
//     HHVM's unique-stub naming ("HHVM::enterTCHelper").
//   * JIT code uses frame pointers (push rbp; mov rbp,rsp ... pop rbp; ret), burns some CPU
//     of its own (mov ecx,N; L: dec ecx; jnz L) and calls C++ and other JIT code by absolute
//     address (mov rax,imm64; call rax) with the request context in rdi.
//   * Address reuse, as with HHVM's Eval.EnableReusableTC: PHP::Api_Legacy::dispatch is
//     emitted first with a LARGE range at address X (and called exactly once), then that
//     space is reclaimed: PHP::Api_Router::route is emitted at the SAME start X with a small
//     size, and PHP::Api_View::render is placed at X+0x400, inside the stale old range.
//     The map keeps all three lines; only the later ones describe the code that runs.
//
// Usage:  hhvm_demo slow|fast SECONDS
//   slow = "Eval.EnableZendSorting": HPHP::f_sort uses an O(n^2) insertion sort
//   fast = std::sort
//
// Build:  g++ -O2 -g -gz -fno-omit-frame-pointer -no-pie -o hhvm_demo hhvm_demo.cpp  (record.py build())
// (x86-64 Linux only.)  Environment: HHVM_DEMO_DUMP_TC=<file> writes the emitted code
// region to <file> at exit (for objdump -D -b binary -m i386:x86-64).
//   HHVM_DEMO_JITDUMP=<dir> also writes <dir>/jit-<pid>.dump like HHVM's Eval.PerfJitDump
//     with JITDUMP_USE_ARCH_TIMESTAMP=0 (CLOCK_MONOTONIC ns: record with perf record -k
//     CLOCK_MONOTONIC): one CODE_LOAD per map line, with the code bytes, and a CODE_CLOSE.
//   HHVM_DEMO_LEGACY_SECONDS=<s> runs PHP::Api_Legacy::dispatch for <s> seconds (instead
//     of once) before its space is reclaimed, so the reused range has samples of both
//     owners: only the time of a sample tells which one ran.
//   HHVM_DEMO_BLOCK=<compute_ms>,<block_ms> (issue 17: off-CPU): the request loop computes
//     for compute_ms of wall time, then calls the JIT function PHP::Api_Db::query, which
//     waits in HPHP::f_stream_select (ppoll on a pipe nobody writes, block_ms timeout),
//     again and again: PHP::Api_Db::query blocks for block_ms / (compute_ms + block_ms) of
//     the wall time by construction. At exit it prints the time measured around each wait
//     and around the whole loop ("blocked_ns=... loop_ns=..."), the truth tests compare
//     with. Its map has a 9th line, PHP::Api_Db::query.
//
// The work is deterministic (fixed seeds, fixed per-request work); only the number of
// requests depends on SECONDS and the machine speed.

#include <fcntl.h>
#include <poll.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <initializer_list>
#include <vector>

#if !defined(__x86_64__) || !defined(__linux__)
#error "hhvm_demo emits x86-64 machine code and needs Linux"
#endif

#define NOINLINE __attribute__((noinline))

// g++ 12 (Debian) omits the frame-pointer setup in *leaf* functions even with
// -fno-omit-frame-pointer (and -mno-omit-leaf-frame-pointer does not change that), so
// perf's frame-pointer unwinding would skip the caller of every sampled leaf (a sample in
// HPHP::VanillaDict::set would appear directly under PHP::Api_Handler::respond, without
// PHP::Api_Router::route).  Taking the frame address forces a real frame, like HHVM's own
// DECLARE_FRAME_POINTER(fp) (= __builtin_frame_address(0)).
void* volatile g_lastFrame;
#define FRAME_ANCHOR() (g_lastFrame = __builtin_frame_address(0))

namespace HPHP {

// ---------------------------------------------------------------------------------------
// Tunables (per request).  Chosen so that in "slow" mode HPHP::f_sort gets roughly half of
// the samples and every PHP:: JIT function a few percent of self time.
// ---------------------------------------------------------------------------------------
static const int kArraySize = 2000;        // doubles sorted by f_sort per request
static const int kRouteAllocs = 128;       // mallocSmall + VanillaDict::set pairs in route
static const int kDictRounds = 128;      // hash mixing rounds per VanillaDict::set
static const uint32_t kAllocBytes = 1280; // bytes per mallocSmall call
static const int kJsonElems = 2000;        // elements json-encoded by render
static const uint32_t kBurnEnter = 25000;  // dec/jnz iterations in HHVM::enterTCHelper
static const uint32_t kBurnRespond = 137000;
static const uint32_t kBurnRoute = 110000;
static const uint32_t kBurnRender = 110000;
static const uint32_t kBurnLegacy = 100;   // PHP::Api_Legacy::dispatch (called once)

bool g_zendSort = false;  // like Eval.EnableZendSorting: slow, zend-compatible sort

// ---------------------------------------------------------------------------------------
// Runtime data structures (just enough to look and cost like the real thing)
// ---------------------------------------------------------------------------------------

struct MemoryManager {
  char* slab;
  size_t used;
  size_t cap;
  uint64_t allocs;
  uint64_t checksum;

  NOINLINE void* mallocSmall(size_t bytes);
  NOINLINE void resetAllocator();
};

struct VanillaDict {
  struct Elm {
    int64_t key;
    int64_t val;
  };
  Elm* table;
  uint64_t mask;
  uint64_t size;

  NOINLINE void set(int64_t key, int64_t val);
  NOINLINE void clear();
};

struct Variant {  // a PHP array of doubles
  std::vector<double>* arr;
};

struct StringBuffer {
  char* data;
  size_t len;
  size_t cap;
};

// Passed in rdi to every JIT function.  Offsets are baked into the emitted code.
struct RequestContext {
  MemoryManager* mm;     // +0
  VanillaDict* dict;     // +8
  Variant* array;        // +16
  StringBuffer* json;    // +24
  StringBuffer* body;    // +32
  Variant* input;        // +40
  uint64_t requests;     // +48
  uint64_t checksum;     // +56
};
static_assert(offsetof(RequestContext, mm) == 0, "layout");
static_assert(offsetof(RequestContext, dict) == 8, "layout");
static_assert(offsetof(RequestContext, array) == 16, "layout");
static_assert(offsetof(RequestContext, json) == 24, "layout");
static_assert(offsetof(RequestContext, body) == 32, "layout");

NOINLINE void* MemoryManager::mallocSmall(size_t bytes) {
  FRAME_ANCHOR();
  size_t sz = (bytes + 15) & ~size_t(15);
  if (used + sz > cap) used = 0;  // wrap (never happens with resetAllocator per request)
  char* p = slab + used;
  used += sz;
  ++allocs;
  // Initialise the block with a header/pattern (the "modest cost" of the allocator).
  uint64_t* w = reinterpret_cast<uint64_t*>(p);
  uint64_t h = checksum ^ (allocs * 0x9E3779B97F4A7C15ull);
  for (size_t i = 0; i < sz / 8; ++i) {
    h = (h ^ (h >> 29)) * 0xBF58476D1CE4E5B9ull + i;
    w[i] = h;
  }
  checksum = h;
  return p;
}

NOINLINE void MemoryManager::resetAllocator() {
  FRAME_ANCHOR();
  used = 0;
}

static inline uint64_t hashInt(uint64_t k) {
  k ^= k >> 33;
  k *= 0xff51afd7ed558ccdull;
  k ^= k >> 33;
  k *= 0xc4ceb9fe1a85ec53ull;
  k ^= k >> 33;
  return k;
}

NOINLINE void VanillaDict::set(int64_t key, int64_t val) {
  FRAME_ANCHOR();
  uint64_t i = hashInt(static_cast<uint64_t>(key));
  // Pretend the dict also re-hashes a few times (mixing, like HashTable::findForInsert).
  for (int r = 0; r < kDictRounds; ++r) i = hashInt(i + static_cast<uint64_t>(r));
  for (;;) {
    Elm& e = table[i & mask];
    if (e.key == 0) {
      e.key = key;
      e.val = val;
      ++size;
      return;
    }
    if (e.key == key) {
      e.val = val;
      return;
    }
    ++i;
  }
}

NOINLINE void VanillaDict::clear() {
  FRAME_ANCHOR();
  std::memset(table, 0, (mask + 1) * sizeof(Elm));
  size = 0;
}

// bool HHVM_FUNCTION(sort, Variant& array, int64_t sort_flags)
NOINLINE bool f_sort(Variant& array, long sort_flags) {
  FRAME_ANCHOR();
  std::vector<double>& v = *array.arr;
  if (g_zendSort) {
    // "zend-compatible" sort: O(n^2) insertion sort, inlined here on purpose so that the
    // time is self time of HPHP::f_sort.
    double* a = v.data();
    const long n = static_cast<long>(v.size());
    for (long i = 1; i < n; ++i) {
      double x = a[i];
      long j = i - 1;
      while (j >= 0 && a[j] > x) {
        a[j + 1] = a[j];
        --j;
      }
      a[j + 1] = x;
    }
  } else {
    std::sort(v.begin(), v.end());
  }
  return sort_flags >= 0;
}

static inline void sbAppend(StringBuffer& sb, char c) {
  if (sb.len < sb.cap) sb.data[sb.len++] = c;
}

// String HHVM_FUNCTION(json_encode, const Variant& value, ...)  (writes into `out`)
NOINLINE long f_json_encode(const Variant& value, StringBuffer& out) {
  FRAME_ANCHOR();
  const std::vector<double>& v = *value.arr;
  out.len = 0;
  sbAppend(out, '[');
  const size_t n = std::min(v.size(), static_cast<size_t>(kJsonElems));
  for (size_t i = 0; i < n; ++i) {
    if (i) sbAppend(out, ',');
    double d = v[i];
    if (d < 0) {
      sbAppend(out, '-');
      d = -d;
    }
    uint64_t ip = static_cast<uint64_t>(d);
    uint64_t frac = static_cast<uint64_t>((d - static_cast<double>(ip)) * 1e9 + 0.5);
    char tmp[24];
    int k = 0;
    do {
      tmp[k++] = static_cast<char>('0' + ip % 10);
      ip /= 10;
    } while (ip);
    while (k) sbAppend(out, tmp[--k]);
    sbAppend(out, '.');
    for (int p = 0; p < 9; ++p) {
      tmp[8 - p] = static_cast<char>('0' + frac % 10);
      frac /= 10;
    }
    for (int p = 0; p < 9; ++p) sbAppend(out, tmp[p]);
  }
  sbAppend(out, ']');
  return static_cast<long>(out.len);
}

// String HHVM_FUNCTION(str_replace, search, replace, subject): replaces "," by ", "
// and "." by "," (locale-style), writing into `out`.
NOINLINE long f_str_replace(const StringBuffer& subject, StringBuffer& out) {
  FRAME_ANCHOR();
  out.len = 0;
  for (int pass = 0; pass < 2; ++pass) {
    out.len = 0;
    for (size_t i = 0; i < subject.len; ++i) {
      char c = subject.data[i];
      if (c == ',') {
        sbAppend(out, ',');
        sbAppend(out, ' ');
      } else if (c == '.') {
        sbAppend(out, pass ? ',' : '.');
      } else {
        sbAppend(out, c);
      }
    }
  }
  return static_cast<long>(out.len);
}

// The blocking mode (HHVM_DEMO_BLOCK): what PHP::Api_Db::query waits for, and the waits
// measured.
struct BlockPlan {
  double computeS = 0;
  double blockS = 0;
  int fd = -1;            // the read end of a pipe nobody writes
  uint64_t blockedNs = 0;  // measured around every wait
  uint64_t waits = 0;
};
BlockPlan g_block;

uint64_t nowNs();

// ppoll(2) by the syscall instruction itself, so the user-space ip of the switch-out stack
// is in HPHP::f_stream_select, whose frame chain leads to PHP::Api_Db::query (libc's
// wrapper keeps no frame pointer: its caller would be lost from the stack).
static inline long rawPpoll(pollfd* fds, unsigned long n, const timespec* ts) {
  long ret;
  register long r10 asm("r10") = 0;  // no signal mask
  register long r8 asm("r8") = 8;    // sigsetsize
  asm volatile("syscall"
               : "=a"(ret)
               : "a"(static_cast<long>(SYS_ppoll)), "D"(fds), "S"(n), "d"(ts), "r"(r10), "r"(r8)
               : "rcx", "r11", "memory");
  return ret;
}

// bool HHVM_FUNCTION(stream_select, ...): waits block_ms for a socket that stays silent
NOINLINE long f_stream_select(RequestContext* ctx) {
  FRAME_ANCHOR();
  pollfd p{g_block.fd, POLLIN, 0};
  const uint64_t ns = static_cast<uint64_t>(g_block.blockS * 1e9);
  timespec ts{static_cast<time_t>(ns / 1000000000ull), static_cast<long>(ns % 1000000000ull)};
  const uint64_t t0 = nowNs();
  long r = rawPpoll(&p, 1, &ts);
  g_block.blockedNs += nowNs() - t0;
  ++g_block.waits;
  ctx->checksum += static_cast<uint64_t>(r);
  return r;
}

// ---------------------------------------------------------------------------------------
// The JIT
// ---------------------------------------------------------------------------------------
namespace jit {

struct CodeBlock {
  uint8_t* base = nullptr;
  size_t size = 0;
  uint8_t* frontier = nullptr;

  void byte(uint8_t b) { *frontier++ = b; }
  void bytes(std::initializer_list<uint8_t> bs) {
    for (uint8_t b : bs) byte(b);
  }
  void imm32(uint32_t v) {
    std::memcpy(frontier, &v, 4);
    frontier += 4;
  }
  void imm64(uint64_t v) {
    std::memcpy(frontier, &v, 8);
    frontier += 8;
  }
  void setFrontier(uint8_t* p) { frontier = p; }

  // --- instructions ---
  // Standard prologue; after it rsp is 16-byte aligned (entry rsp = 8 mod 16, then
  // three 8-byte pushes), so every `call` we emit is made with an aligned stack.
  void prologue() {
    byte(0x55);                    // push rbp
    bytes({0x48, 0x89, 0xe5});     // mov rbp, rsp
    byte(0x53);                    // push rbx
    bytes({0x41, 0x54});           // push r12
    bytes({0x48, 0x89, 0xfb});     // mov rbx, rdi   (context pointer, callee-saved)
  }
  void epilogue() {
    bytes({0x41, 0x5c});  // pop r12
    byte(0x5b);           // pop rbx
    byte(0x5d);           // pop rbp
    byte(0xc3);           // ret
  }
  void burn(uint32_t iters) {  // mov ecx, N; L: dec ecx; jnz L
    byte(0xb9);
    imm32(iters);
    bytes({0xff, 0xc9});  // dec ecx
    bytes({0x75, 0xfc});  // jnz -4
  }
  void movRdiCtx() { bytes({0x48, 0x89, 0xdf}); }  // mov rdi, rbx
  void movRdiCtxField(uint8_t off) { bytes({0x48, 0x8b, 0x7b, off}); }  // mov rdi,[rbx+off]
  void movRsiCtxField(uint8_t off) { bytes({0x48, 0x8b, 0x73, off}); }  // mov rsi,[rbx+off]
  void movEsiImm(uint32_t v) {  // mov esi, imm32
    byte(0xbe);
    imm32(v);
  }
  void movRsiRax() { bytes({0x48, 0x89, 0xc6}); }  // mov rsi, rax
  void movRdxR12() { bytes({0x4c, 0x89, 0xe2}); }  // mov rdx, r12
  void movR12dImm(uint32_t v) {                     // mov r12d, imm32
    bytes({0x41, 0xbc});
    imm32(v);
  }
  void decR12dJnz(uint8_t* target) {  // dec r12d; jnz rel32 target
    bytes({0x41, 0xff, 0xcc});
    bytes({0x0f, 0x85});
    int64_t rel = target - (frontier + 4);
    imm32(static_cast<uint32_t>(static_cast<int32_t>(rel)));
  }
  void callAbs(const void* fn) {  // mov rax, imm64; call rax
    bytes({0x48, 0xb8});
    imm64(reinterpret_cast<uint64_t>(fn));
    bytes({0xff, 0xd0});
  }
  void callAbs(uint8_t* fn) { callAbs(static_cast<const void*>(fn)); }
  void ud2() { bytes({0x0f, 0x0b}); }
  void padInt3(uint8_t* upto) {
    while (frontier < upto) byte(0xcc);
  }
};

// HHVM's perf-jitdump.cpp (Eval.PerfJitDump), with CLOCK_MONOTONIC timestamps. The file is
// mmapped PROT_EXEC once so that perf record sees it (the marker perf inject --jit needs).
struct JitDump {
  FILE* f = nullptr;
  void* marker = nullptr;
  uint64_t index = 0;
  char path[512];

  static uint64_t now() {
    timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return static_cast<uint64_t>(ts.tv_sec) * 1000000000ull + static_cast<uint64_t>(ts.tv_nsec);
  }
  void put(const void* p, size_t n) { std::fwrite(p, 1, n, f); }
  void u32(uint32_t v) { put(&v, 4); }
  void u64(uint64_t v) { put(&v, 8); }
  void open(const char* dir) {
    std::snprintf(path, sizeof path, "%s/jit-%d.dump", dir, static_cast<int>(getpid()));
    int fd = ::open(path, O_CREAT | O_TRUNC | O_RDWR, 0666);
    if (fd < 0 || !(f = fdopen(fd, "w+"))) {
      std::fprintf(stderr, "hhvm_demo: cannot open %s: %s\n", path, std::strerror(errno));
      std::exit(1);
    }
    u32(0x4A695444);  // magic "JiTD"
    u32(1);           // version
    u32(40);          // header size
    u32(62);          // EM_X86_64
    u32(0);           // pad1
    u32(static_cast<uint32_t>(getpid()));
    u64(now());
    u64(0);           // flags: no JITDUMP_FLAGS_ARCH_TIMESTAMP
    std::fflush(f);
    marker = mmap(nullptr, static_cast<size_t>(sysconf(_SC_PAGESIZE)), PROT_READ | PROT_EXEC,
                  MAP_PRIVATE, fd, 0);
  }
  void load(const uint8_t* start, const uint8_t* end, const char* name) {
    const uint64_t size = static_cast<uint64_t>(end - start);
    const size_t nameLen = std::strlen(name) + 1;
    u32(0);  // JIT_CODE_LOAD
    u32(static_cast<uint32_t>(16 + 40 + nameLen + size));
    u64(now());
    u32(static_cast<uint32_t>(getpid()));
    u32(static_cast<uint32_t>(getpid()));
    u64(reinterpret_cast<uint64_t>(start));  // vma
    u64(reinterpret_cast<uint64_t>(start));  // code_addr
    u64(size);
    u64(++index);
    put(name, nameLen);
    put(start, size);
    std::fflush(f);
  }
  void close() {
    u32(3);  // JIT_CODE_CLOSE
    u32(16);
    u64(now());
    std::fclose(f);
    f = nullptr;
  }
};

JitDump g_jitDump;

// HHVM's DebugInfo: /tmp/perf-<pid>.map, "%lx %x %s\n", fflush after each line.
struct DebugInfo {
  FILE* perfMap = nullptr;
  char path[64];

  void open() {
    std::snprintf(path, sizeof path, "/tmp/perf-%d.map", static_cast<int>(getpid()));
    perfMap = std::fopen(path, "w");
    if (!perfMap) {
      std::fprintf(stderr, "hhvm_demo: cannot open %s: %s\n", path, std::strerror(errno));
      std::exit(1);
    }
  }
  void recordPerfMap(const uint8_t* start, const uint8_t* end, const char* name) {
    std::fprintf(perfMap, "%lx %x %s\n", reinterpret_cast<unsigned long>(start),
                 static_cast<unsigned>(end - start), name);
    std::fflush(perfMap);
    if (g_jitDump.f) g_jitDump.load(start, end, name);
  }
};

struct TC {
  CodeBlock cb;
  DebugInfo dbg;
  uint8_t* enterTCHelper = nullptr;
  uint8_t* enterTCHelperPatch = nullptr;
  uint8_t* legacyDispatch = nullptr;
  uint8_t* route = nullptr;
  uint8_t* render = nullptr;
  uint8_t* respond = nullptr;
  uint8_t* query = nullptr;  // PHP::Api_Db::query (HHVM_DEMO_BLOCK only)
};

TC g_tc;

typedef void (*TCEntry)(RequestContext*);

// Layout of the 64 KiB code region (offsets from its base):
static const size_t kTCSize = 0x10000;
static const size_t kStubsOff = 0x0000;     // unique stubs
static const size_t kReuseOff = 0x1000;     // X: Api_Legacy::dispatch, later route + render
static const size_t kLegacySize = 0x800;    // the big, stale range
static const size_t kRenderInOld = 0x400;   // render lives at X + 0x400 (inside the old range)
static const size_t kHotOff = 0x2000;       // Api_Handler::respond (main)
static const size_t kColdOff = 0x8000;      // Api_Handler::respond (cold block)
static const size_t kQueryOff = 0x3000;     // Api_Db::query (HHVM_DEMO_BLOCK only)
static const uint32_t kBurnQuery = 2000;    // a little CPU of its own per query

NOINLINE void emitUniqueStubs(TC& tc) {
  CodeBlock& a = tc.cb;
  a.setFrontier(a.base + kStubsOff);
  uint8_t* start = a.frontier;
  tc.enterTCHelper = start;
  a.prologue();
  a.burn(kBurnEnter);
  a.movRdiCtx();
  tc.enterTCHelperPatch = a.frontier + 2;  // imm64 of the call to respond, patched later
  a.callAbs(static_cast<const void*>(nullptr));
  a.epilogue();
  tc.dbg.recordPerfMap(start, a.frontier, "HHVM::enterTCHelper");

  start = a.frontier = a.base + kStubsOff + 0x40;  // never executed
  a.byte(0xc3);
  a.padInt3(start + 0x10);
  tc.dbg.recordPerfMap(start, a.frontier, "HHVM::enterTCExit");

  start = a.frontier = a.base + kStubsOff + 0x60;  // never executed
  a.ud2();
  a.padInt3(start + 0x20);
  tc.dbg.recordPerfMap(start, a.frontier, "HHVM::fcallHelperThunk");
}

NOINLINE void emitLegacyDispatch(TC& tc) {
  CodeBlock& a = tc.cb;
  uint8_t* start = a.base + kReuseOff;
  a.setFrontier(start);
  tc.legacyDispatch = start;
  a.prologue();
  a.burn(kBurnLegacy);
  a.epilogue();
  a.padInt3(start + kLegacySize);  // a big translation (code + padding): 0x800 bytes
  tc.dbg.recordPerfMap(start, a.frontier, "PHP::Api_Legacy::dispatch");
}

// Eval.EnableReusableTC: Func::destroy -> tc::reclaimFunction; the space is recycled.
NOINLINE void reclaimFunction(TC& tc, uint8_t* start, size_t len) {
  std::memset(start, 0xcc, len);
  if (tc.legacyDispatch == start) tc.legacyDispatch = nullptr;
}

// The machine-code address of a non-virtual member function (GCC extension, see
// "Extracting the Function Pointer from a Bound Pointer to Member Function").
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wpmf-conversions"
static const void* mallocSmallAddr() { return reinterpret_cast<const void*>(&MemoryManager::mallocSmall); }
static const void* dictSetAddr() { return reinterpret_cast<const void*>(&VanillaDict::set); }
#pragma GCC diagnostic pop

NOINLINE void emitRouteAndRender(TC& tc) {
  CodeBlock& a = tc.cb;
  // PHP::Api_Router::route at X (same start as the old Api_Legacy::dispatch, smaller)
  uint8_t* start = a.base + kReuseOff;
  a.setFrontier(start);
  tc.route = start;
  a.prologue();
  a.burn(kBurnRoute);
  a.movR12dImm(kRouteAllocs);
  uint8_t* loop = a.frontier;
  a.movRdiCtxField(offsetof(RequestContext, mm));
  a.movEsiImm(kAllocBytes);
  a.callAbs(mallocSmallAddr());
  a.movRdiCtxField(offsetof(RequestContext, dict));
  a.movRsiRax();
  a.movRdxR12();
  a.callAbs(dictSetAddr());
  a.decR12dJnz(loop);
  a.epilogue();
  tc.dbg.recordPerfMap(start, a.frontier, "PHP::Api_Router::route");

  // PHP::Api_View::render at X + 0x400: inside the stale [X, X+0x800) range
  start = a.base + kReuseOff + kRenderInOld;
  a.setFrontier(start);
  tc.render = start;
  a.prologue();
  a.burn(kBurnRender / 2);
  a.movRdiCtxField(offsetof(RequestContext, array));
  a.movRsiCtxField(offsetof(RequestContext, json));
  a.callAbs(reinterpret_cast<const void*>(&f_json_encode));
  a.burn(kBurnRender / 2);
  a.movRdiCtxField(offsetof(RequestContext, json));
  a.movRsiCtxField(offsetof(RequestContext, body));
  a.callAbs(reinterpret_cast<const void*>(&f_str_replace));
  a.epilogue();
  tc.dbg.recordPerfMap(start, a.frontier, "PHP::Api_View::render");
}

NOINLINE void emitRespond(TC& tc) {
  CodeBlock& a = tc.cb;
  uint8_t* start = a.base + kHotOff;
  a.setFrontier(start);
  tc.respond = start;
  a.prologue();
  a.burn(kBurnRespond / 2);
  a.movRdiCtx();
  a.callAbs(tc.route);
  a.movRdiCtxField(offsetof(RequestContext, array));
  a.movEsiImm(0);  // SORT_REGULAR
  a.callAbs(reinterpret_cast<const void*>(&f_sort));
  a.burn(kBurnRespond / 2);
  a.movRdiCtx();
  a.callAbs(tc.render);
  a.epilogue();
  tc.dbg.recordPerfMap(start, a.frontier, "PHP::Api_Handler::respond");

  // The cold block of the same translation (HHVM writes main and cold with the same
  // name). Never executed.
  start = a.base + kColdOff;
  a.setFrontier(start);
  a.ud2();
  a.padInt3(start + 0x30);
  tc.dbg.recordPerfMap(start, a.frontier, "PHP::Api_Handler::respond");

  // Now that respond exists, point HHVM::enterTCHelper's call at it.
  uint64_t target = reinterpret_cast<uint64_t>(tc.respond);
  std::memcpy(tc.enterTCHelperPatch, &target, 8);
}

// PHP::Api_Db::query: a little work, then HPHP::f_stream_select (which blocks).
NOINLINE void emitQuery(TC& tc) {
  CodeBlock& a = tc.cb;
  uint8_t* start = a.base + kQueryOff;
  a.setFrontier(start);
  tc.query = start;
  a.prologue();
  a.burn(kBurnQuery);
  a.movRdiCtx();
  a.callAbs(reinterpret_cast<const void*>(&f_stream_select));
  a.epilogue();
  tc.dbg.recordPerfMap(start, a.frontier, "PHP::Api_Db::query");
}

NOINLINE void initTC(TC& tc) {
  void* mem = mmap(nullptr, kTCSize, PROT_READ | PROT_WRITE | PROT_EXEC,
                   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (mem == MAP_FAILED) {
    std::fprintf(stderr, "hhvm_demo: mmap RWX failed: %s\n", std::strerror(errno));
    std::exit(1);
  }
  tc.cb.base = static_cast<uint8_t*>(mem);
  tc.cb.size = kTCSize;
  std::memset(mem, 0xcc, kTCSize);
  tc.dbg.open();
  emitUniqueStubs(tc);
  emitLegacyDispatch(tc);
}

// Runs PHP::Api_Legacy::dispatch once (a request for an old API version), so it is a
// real translation that ran, but gets ~no samples; or for `seconds` (see
// HHVM_DEMO_LEGACY_SECONDS), so that it gets samples before its space is reused.
double nowMonotonic();
NOINLINE void runLegacyOnce(TC& tc, RequestContext* ctx, double seconds) {
  TCEntry dispatch = reinterpret_cast<TCEntry>(tc.legacyDispatch);
  if (!(seconds > 0)) {
    dispatch(ctx);
    return;
  }
  const double deadline = nowMonotonic() + seconds;
  do {
    for (int i = 0; i < 1000; ++i) dispatch(ctx);
  } while (nowMonotonic() < deadline);
}

NOINLINE void enterTC(RequestContext* ctx) {
  reinterpret_cast<TCEntry>(g_tc.enterTCHelper)(ctx);
  asm volatile("" ::: "memory");  // not a tail call: keep HPHP::jit::enterTC on the stack
}

NOINLINE void enterQuery(RequestContext* ctx) {
  FRAME_ANCHOR();
  reinterpret_cast<TCEntry>(g_tc.query)(ctx);
  asm volatile("" ::: "memory");
}

}  // namespace jit

struct HttpRequestHandler {
  RequestContext* ctx;
  NOINLINE void handleRequest();
};

NOINLINE void HttpRequestHandler::handleRequest() {
  // Per-request state: fresh copy of the input array, allocator and dict reset.
  *ctx->array->arr = *ctx->input->arr;
  ctx->mm->resetAllocator();
  ctx->dict->clear();
  jit::enterTC(ctx);
  ctx->requests++;
  ctx->checksum += static_cast<uint64_t>(ctx->body->len) + ctx->dict->size +
                   static_cast<uint64_t>((*ctx->array->arr)[0] * 1000.0);
}

static double nowSeconds() {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) * 1e-9;
}

double jit::nowMonotonic() { return nowSeconds(); }

uint64_t nowNs() {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<uint64_t>(ts.tv_sec) * 1000000000ull + static_cast<uint64_t>(ts.tv_nsec);
}

// HHVM_DEMO_BLOCK: compute for computeS of wall time, then one query that blocks blockS.
NOINLINE uint64_t runBlockingLoop(RequestContext* ctx, double seconds) {
  HttpRequestHandler handler{ctx};
  const double deadline = nowSeconds() + seconds;
  do {
    const double until = nowSeconds() + g_block.computeS;
    do {
      handler.handleRequest();
    } while (nowSeconds() < until);
    jit::enterQuery(ctx);
  } while (nowSeconds() < deadline);
  return ctx->requests;
}

NOINLINE uint64_t runRequestLoop(RequestContext* ctx, double seconds) {
  if (g_block.fd >= 0) return runBlockingLoop(ctx, seconds);
  HttpRequestHandler handler{ctx};
  const double deadline = nowSeconds() + seconds;
  do {
    for (int i = 0; i < 8; ++i) handler.handleRequest();
  } while (nowSeconds() < deadline);
  return ctx->requests;
}

}  // namespace HPHP

static void dumpTC(const char* file) {
  FILE* f = std::fopen(file, "wb");
  if (!f) return;
  std::fwrite(HPHP::jit::g_tc.cb.base, 1, HPHP::jit::kTCSize, f);
  std::fclose(f);
  std::fprintf(stderr, "hhvm_demo: code region %p dumped to %s\n",
               static_cast<void*>(HPHP::jit::g_tc.cb.base), file);
}

int main(int argc, char** argv) {
  using namespace HPHP;
  if (argc != 3 || (std::strcmp(argv[1], "slow") != 0 && std::strcmp(argv[1], "fast") != 0)) {
    std::fprintf(stderr, "usage: %s slow|fast SECONDS\n", argv[0]);
    return 2;
  }
  char* endp = nullptr;
  const double seconds = std::strtod(argv[2], &endp);
  if (!endp || *endp || !(seconds > 0) || seconds > 3600) {
    std::fprintf(stderr, "hhvm_demo: bad SECONDS %s\n", argv[2]);
    return 2;
  }
  g_zendSort = std::strcmp(argv[1], "slow") == 0;

  // Request state, fixed seed.
  static MemoryManager mm;
  mm.cap = 1 << 20;
  mm.slab = static_cast<char*>(std::malloc(mm.cap));
  static VanillaDict dict;
  dict.mask = 4095;
  dict.table = static_cast<VanillaDict::Elm*>(std::calloc(dict.mask + 1, sizeof(VanillaDict::Elm)));
  static std::vector<double> input(kArraySize), work(kArraySize);
  uint64_t seed = 20240601;
  for (double& d : input) {
    seed = seed * 6364136223846793005ull + 1442695040888963407ull;
    d = static_cast<double>(seed >> 11) * (1.0 / 9007199254740992.0) * 1000.0;
  }
  static Variant vin{&input}, varr{&work};
  static StringBuffer json{static_cast<char*>(std::malloc(1 << 16)), 0, 1 << 16};
  static StringBuffer body{static_cast<char*>(std::malloc(1 << 17)), 0, 1 << 17};
  static RequestContext ctx{&mm, &dict, &varr, &json, &body, &vin, 0, 0};

  if (const char* block = std::getenv("HHVM_DEMO_BLOCK")) {
    double computeMs = 0, blockMs = 0;
    int fds[2];
    if (std::sscanf(block, "%lf,%lf", &computeMs, &blockMs) != 2 || !(computeMs > 0) ||
        !(blockMs > 0) || pipe(fds) != 0) {
      std::fprintf(stderr, "hhvm_demo: bad HHVM_DEMO_BLOCK %s (want COMPUTE_MS,BLOCK_MS)\n",
                   block);
      return 2;
    }
    g_block.computeS = computeMs / 1e3;
    g_block.blockS = blockMs / 1e3;
    g_block.fd = fds[0];
  }
  const char* legacyEnv = std::getenv("HHVM_DEMO_LEGACY_SECONDS");
  const double legacySeconds = legacyEnv ? std::strtod(legacyEnv, nullptr) : 0;
  if (const char* dir = std::getenv("HHVM_DEMO_JITDUMP")) jit::g_jitDump.open(dir);
  jit::TC& tc = jit::g_tc;
  jit::initTC(tc);
  jit::runLegacyOnce(tc, &ctx, legacySeconds);
  jit::reclaimFunction(tc, tc.cb.base + jit::kReuseOff, jit::kLegacySize);
  jit::emitRouteAndRender(tc);
  jit::emitRespond(tc);
  if (g_block.fd >= 0) jit::emitQuery(tc);

  std::printf("hhvm_demo: pid=%d mode=%s map=%s tc=%p\n", static_cast<int>(getpid()), argv[1],
              tc.dbg.path, static_cast<void*>(tc.cb.base));
  std::fflush(stdout);

  const uint64_t loopStart = nowNs();
  const uint64_t n = runRequestLoop(&ctx, seconds);
  const uint64_t loopNs = nowNs() - loopStart;
  if (g_block.fd >= 0)
    std::printf("hhvm_demo: pid=%d blocked_ns=%llu loop_ns=%llu waits=%llu\n",
                static_cast<int>(getpid()), static_cast<unsigned long long>(g_block.blockedNs),
                static_cast<unsigned long long>(loopNs),
                static_cast<unsigned long long>(g_block.waits));

  std::printf("hhvm_demo: pid=%d requests=%llu checksum=%llu\n", static_cast<int>(getpid()),
              static_cast<unsigned long long>(n), static_cast<unsigned long long>(ctx.checksum));
  if (const char* dump = std::getenv("HHVM_DEMO_DUMP_TC")) dumpTC(dump);
  std::fclose(tc.dbg.perfMap);  // the map is left in place (Eval.KeepPerfPidMap=1)
  if (jit::g_jitDump.f) jit::g_jitDump.close();
  return 0;
}
