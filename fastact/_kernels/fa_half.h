/* Half-width storage: float16 (IEEE binary16) and bfloat16 <-> float32, arrays.
 *
 * Every conversion is exact or rounds to nearest even; nan stays nan (quiet
 * on the way down, its payload truncated), overflow gives inf, subnormals are
 * exact both ways.  float16 uses the F16C instructions where the build has
 * them (the v3/v4 builds), the bit manipulation below otherwise; bfloat16
 * AVX2 where the build has it.  The AVX-512 build converts 16 lanes at a
 * time: its kernels run on 512-bit vectors, and a 512-bit load of a block
 * written by two 256-bit stores would miss store-to-load forwarding.  All paths give the same bits
 * (tests/test_half.py).  The portable functions are branch-free so that the
 * compiler vectorizes their loops.  (AVX-512 BF16's VCVTNEPS2BF16 is not
 * used: it flushes subnormal inputs to zero.)
 */
#ifndef FA_HALF_H
#define FA_HALF_H

#include <stdint.h>
#include <string.h>
#include <stddef.h>
/* MSVC has no __F16C__; every CPU with AVX2 has F16C */
#if !defined(__F16C__) && defined(_MSC_VER) && defined(__AVX2__)
#define __F16C__ 1
#endif
#if defined(__F16C__) || defined(__AVX2__) || defined(__AVX512F__)
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
    uint32_t small = fa_bits((float)(int32_t)em * (1.0f / 16777216.0f));   /* zero, subnormal: exact */
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
#if defined(__AVX512F__)
    for (; i + 16 <= n; i += 16)
        _mm512_storeu_ps(dst + i, _mm512_cvtph_ps(_mm256_loadu_si256((const __m256i*)(src + i))));
#endif
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
#if defined(__AVX512F__)
    for (; i + 16 <= n; i += 16)
        _mm256_storeu_si256((__m256i*)(dst + i),
                            _mm512_cvtps_ph(_mm512_loadu_ps(src + i), _MM_FROUND_TO_NEAREST_INT));
#endif
#if defined(__F16C__)
    for (; i + 8 <= n; i += 8)
        _mm_storeu_si128((__m128i*)(dst + i),
                         _mm256_cvtps_ph(_mm256_loadu_ps(src + i), _MM_FROUND_TO_NEAREST_INT));
#endif
    for (; i < n; i++)
        dst[i] = fa_f32_to_f16(src[i]);
}

#if defined(__AVX2__)
/* fa_f32_to_bf16 on 8 lanes, the result in the low half of each 32-bit lane */
static inline __m256i fa_bf16_round8(__m256i x)
{
    __m256i top = _mm256_srli_epi32(x, 16);
    __m256i lsb = _mm256_and_si256(top, _mm256_set1_epi32(1));
    __m256i r = _mm256_srli_epi32(_mm256_add_epi32(_mm256_add_epi32(x, _mm256_set1_epi32(0x7fff)), lsb), 16);
    __m256i nan = _mm256_or_si256(top, _mm256_set1_epi32(0x40));
    __m256 v = _mm256_castsi256_ps(x);
    return _mm256_castps_si256(_mm256_blendv_ps(_mm256_castsi256_ps(r), _mm256_castsi256_ps(nan),
                                                _mm256_cmp_ps(v, v, _CMP_UNORD_Q)));
}
#endif

#if defined(__AVX512F__)
/* fa_f32_to_bf16 on 16 lanes, packed to 16 bits */
static inline __m256i fa_bf16_round16(__m512i x)
{
    __m512i top = _mm512_srli_epi32(x, 16);
    __m512i lsb = _mm512_and_si512(top, _mm512_set1_epi32(1));
    __m512i r = _mm512_srli_epi32(_mm512_add_epi32(_mm512_add_epi32(x, _mm512_set1_epi32(0x7fff)), lsb), 16);
    __m512 v = _mm512_castsi512_ps(x);
    r = _mm512_mask_or_epi32(r, _mm512_cmp_ps_mask(v, v, _CMP_UNORD_Q), top, _mm512_set1_epi32(0x40));
    return _mm512_cvtepi32_epi16(r);
}
#endif

static inline void fa_load_bf16(const uint16_t* src, float* dst, ptrdiff_t n)
{
    ptrdiff_t i = 0;
#if defined(__AVX512F__)
    for (; i + 16 <= n; i += 16) {
        __m512i w = _mm512_cvtepu16_epi32(_mm256_loadu_si256((const __m256i*)(src + i)));
        _mm512_storeu_si512((void*)(dst + i), _mm512_slli_epi32(w, 16));
    }
#endif
#if defined(__AVX2__)
    for (; i + 8 <= n; i += 8) {
        __m256i w = _mm256_cvtepu16_epi32(_mm_loadu_si128((const __m128i*)(src + i)));
        _mm256_storeu_si256((__m256i*)(dst + i), _mm256_slli_epi32(w, 16));
    }
#endif
    for (; i < n; i++)
        dst[i] = fa_bf16_to_f32(src[i]);
}

static inline void fa_store_bf16(const float* src, uint16_t* dst, ptrdiff_t n)
{
    ptrdiff_t i = 0;
#if defined(__AVX512F__)
    for (; i + 16 <= n; i += 16)
        _mm256_storeu_si256((__m256i*)(dst + i),
                            fa_bf16_round16(_mm512_castps_si512(_mm512_loadu_ps(src + i))));
#endif
#if defined(__AVX2__)
    for (; i + 16 <= n; i += 16) {
        __m256i lo = fa_bf16_round8(_mm256_castps_si256(_mm256_loadu_ps(src + i)));
        __m256i hi = fa_bf16_round8(_mm256_castps_si256(_mm256_loadu_ps(src + i + 8)));
        /* packus interleaves 128-bit lanes: lo0-3 hi0-3 lo4-7 hi4-7; put them in order */
        __m256i packed = _mm256_permute4x64_epi64(_mm256_packus_epi32(lo, hi), 0xd8);
        _mm256_storeu_si256((__m256i*)(dst + i), packed);
    }
#endif
    for (; i < n; i++)
        dst[i] = fa_f32_to_bf16(src[i]);
}

#endif
