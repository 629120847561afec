/* Half-width storage: float16 (IEEE binary16) and bfloat16 <-> float32, arrays.
 *
 * Every conversion is exact or rounds to nearest even; nan stays nan (quiet
 * on the way down, its payload truncated), overflow gives inf, subnormals are
 * exact both ways.  float16 uses the F16C instructions where the build has
 * them (the v3/v4 builds), the bit manipulation below otherwise; both give
 * the same bits (tests/test_half.py).  The portable functions are branch-free
 * so that the compiler vectorizes their loops.
 */
#ifndef FA_HALF_H
#define FA_HALF_H

#include <stdint.h>
#include <string.h>
#include <stddef.h>
#if defined(__F16C__)
#include <immintrin.h>
#endif

static inline uint32_t fa_bits(float f) { uint32_t u; memcpy(&u, &f, 4); return u; }
static inline float fa_float(uint32_t u) { float f; memcpy(&f, &u, 4); return f; }

/* float16 -> float32, exact. */
static inline float fa_f16_to_f32(uint16_t h)
{
    uint32_t sign = (uint32_t)(h & 0x8000u) << 16;
    uint32_t em = h & 0x7fffu;                          /* exponent and mantissa */
    uint32_t normal = (em << 13) + (112u << 23);        /* rebias 15 -> 127 */
    uint32_t special = (em << 13) | 0x7f800000u;        /* inf, nan (payload kept) */
    uint32_t small = fa_bits((float)(int32_t)em * 0x1p-24f);   /* zero, subnormal: exact */
    uint32_t r = em >= 0x7c00u ? special : normal;
    r = em < 0x0400u ? small : r;
    return fa_float(sign | r);
}

/* float32 -> float16, round to nearest even. */
static inline uint16_t fa_f32_to_f16(float f)
{
    uint32_t x = fa_bits(f);
    uint32_t sign = (x >> 16) & 0x8000u;
    uint32_t a = x & 0x7fffffffu;
    /* normal results: drop 13 bits with ties to even, rebias 127 -> 15 */
    uint32_t normal = (a - (112u << 23) + 0x0fffu + ((a >> 13) & 1u)) >> 13;
    /* below 2^-14: in units of 2^-24, rounded by the float add (exact otherwise) */
    uint32_t small = fa_bits(fa_float(a) + 0.5f) - fa_bits(0.5f);
    uint32_t nan = 0x7e00u | ((a >> 13) & 0x03ffu);
    uint32_t r = a < 0x38800000u ? small : normal;
    r = a >= 0x477ff000u ? 0x7c00u : r;                 /* rounds to 65536 or more: inf */
    r = a > 0x7f800000u ? nan : r;
    return (uint16_t)(sign | r);
}

/* bfloat16 -> float32: exact, the top half of the bits. */
static inline float fa_bf16_to_f32(uint16_t b) { return fa_float((uint32_t)b << 16); }

/* float32 -> bfloat16, round to nearest even (overflow carries into inf). */
static inline uint16_t fa_f32_to_bf16(float f)
{
    uint32_t x = fa_bits(f);
    uint32_t rounded = (x + 0x7fffu + ((x >> 16) & 1u)) >> 16;
    uint32_t nan = (x >> 16) | 0x0040u;
    return (uint16_t)((x & 0x7fffffffu) > 0x7f800000u ? nan : rounded);
}

static inline void fa_load_f16(const uint16_t* src, float* dst, ptrdiff_t n)
{
    ptrdiff_t i = 0;
#if defined(__F16C__)
    for (; i + 8 <= n; i += 8)
        _mm256_storeu_ps(dst + i, _mm256_cvtph_ps(_mm_loadu_si128((const __m128i*)(src + i))));
#endif
    for (; i < n; i++)
        dst[i] = fa_f16_to_f32(src[i]);
}

static inline void fa_store_f16(const float* src, uint16_t* dst, ptrdiff_t n)
{
    ptrdiff_t i = 0;
#if defined(__F16C__)
    for (; i + 8 <= n; i += 8)
        _mm_storeu_si128((__m128i*)(dst + i),
                         _mm256_cvtps_ph(_mm256_loadu_ps(src + i), _MM_FROUND_TO_NEAREST_INT));
#endif
    for (; i < n; i++)
        dst[i] = fa_f32_to_f16(src[i]);
}

static inline void fa_load_bf16(const uint16_t* src, float* dst, ptrdiff_t n)
{
    for (ptrdiff_t i = 0; i < n; i++)
        dst[i] = fa_bf16_to_f32(src[i]);
}

static inline void fa_store_bf16(const float* src, uint16_t* dst, ptrdiff_t n)
{
    for (ptrdiff_t i = 0; i < n; i++)
        dst[i] = fa_f32_to_bf16(src[i]);
}

#endif
