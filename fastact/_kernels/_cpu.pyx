# CPU feature probe.  Always built with baseline flags, so that it can be
# imported on any x86-64 (or other) CPU before a kernel build is chosen.

cdef extern from *:
    """
    #if (defined(__GNUC__) || defined(__clang__)) && defined(__x86_64__)
    static int fa_cpu_level(void) {
        /* __builtin_cpu_supports checks XGETBV too: AVX/AVX-512 count only
           if the OS saves their registers. */
        __builtin_cpu_init();
        if (__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw")
            && __builtin_cpu_supports("avx512cd") && __builtin_cpu_supports("avx512dq")
            && __builtin_cpu_supports("avx512vl") && __builtin_cpu_supports("avx2")
            && __builtin_cpu_supports("fma") && __builtin_cpu_supports("bmi2"))
            return 4;
        if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")
            && __builtin_cpu_supports("bmi") && __builtin_cpu_supports("bmi2")
            && __builtin_cpu_supports("f16c") && __builtin_cpu_supports("movbe")
            && __builtin_cpu_supports("lzcnt"))
            return 3;
        return 1;
    }
    #define FA_CPU_X86_64 1
    #else
    static int fa_cpu_level(void) { return 1; }
    #define FA_CPU_X86_64 0
    #endif
    """
    int fa_cpu_level() noexcept nogil
    int FA_CPU_X86_64


def cpu_level():
    """x86-64 micro-architecture level the CPU and OS support: 1, 3 or 4."""
    return fa_cpu_level()


IS_X86_64 = bool(FA_CPU_X86_64)
