{
  # The default CPU addon. Numeric kernels are compiled once per ISA in their own static
  # libraries with their own flags (files named *_avx512.cc / *_avx2.cc / *_neon.cc) and picked at load
  # time from CPUID (x64) or HWCAP (arm64, *_neon.cc); the addon itself is built for baseline x86-64 / arm64 so prebuilt
  # binaries run anywhere. Source lists come from scripts/list-sources.mjs.
  "target_defaults": {
    "cflags!": ["-fno-exceptions"],
    "cflags_cc!": ["-fno-exceptions", "-std=gnu++17", "-std=c++17", "-std=gnu++20"],
    "cflags": ["-O3", "-fPIC", "-Wall", "-Wextra", "-fno-math-errno"],
    "cflags_cc": ["-std=c++17", "-fexceptions"],
    "include_dirs": ["native"],
    "defines": ["NAPI_VERSION=8", "NODE_ADDON_API_DISABLE_DEPRECATED"],
    "xcode_settings": {
      "GCC_ENABLE_CPP_EXCEPTIONS": "YES",
      "CLANG_CXX_LANGUAGE_STANDARD": "c++17",
      "MACOSX_DEPLOYMENT_TARGET": "11.0",
      "OTHER_CFLAGS": ["-O3", "-fno-math-errno"]
    },
    "msvs_settings": { "VCCLCompilerTool": { "ExceptionHandling": 1, "AdditionalOptions": ["/std:c++17", "/O2"] } },
    "conditions": [
      # Windows builds with clang-cl (Visual Studio's ClangCL toolset): the kernels use GCC/Clang
      # builtins (__builtin_prefetch, <cpuid.h>, #pragma GCC unroll) that MSVC's cl lacks, and
      # clang-cl takes cl's flags (/arch:AVX2, /EHsc, /std:c++17) and links with link.exe.
      ["OS=='win'", { "msbuild_toolset": "ClangCL", "libraries!": ["-lpthread", "-ldl"] }]
    ]
  },
  "targets": [
    {
      "target_name": "sepconv",
      "sources": ["<!@(node scripts/list-sources.mjs core)"],
      "include_dirs": ["<!(node -p \"require('node-addon-api').include_dir\")"],
      "defines": ["NAPI_CPP_EXCEPTIONS"],
      "libraries": ["-lpthread", "-ldl"],
      "conditions": [
        ["target_arch=='x64'", {
          "dependencies": ["sepconv_isa_avx512", "sepconv_isa_avx2"],
          "defines": ["SEPCONV_HAVE_X86_ISAS"]
        }],
        ["target_arch=='arm64'", {
          "dependencies": ["sepconv_isa_neon"],
          "defines": ["SEPCONV_HAVE_NEON"]
        }]
      ]
    }
  ],
  "conditions": [
    ["target_arch=='x64'", {
      "targets": [
        {
          "target_name": "sepconv_isa_avx512",
          "type": "static_library",
          "sources": ["<!@(node scripts/list-sources.mjs avx512)"],
          # GCC 12's AVX-512 intrinsic headers trip -Wmaybe-uninitialized on their own
          # _mm512_undefined_ps() placeholders (fixed in GCC 13); silence that one warning here.
          "cflags": ["-mavx512f", "-mavx512bw", "-mavx512dq", "-mavx512vl", "-mavx2", "-mfma", "-mf16c", "-Wno-maybe-uninitialized"],
          "xcode_settings": { "OTHER_CFLAGS": ["-O3", "-mavx512f", "-mavx512bw", "-mavx512dq", "-mavx512vl", "-mavx2", "-mfma", "-mf16c"] },
          # /arch:AVX512 is F+CD+BW+DQ+VL (and FMA, F16C), as the -m flags above.
          "msvs_settings": { "VCCLCompilerTool": { "AdditionalOptions": ["/arch:AVX512"] } }
        },
        {
          "target_name": "sepconv_isa_avx2",
          "type": "static_library",
          "sources": ["<!@(node scripts/list-sources.mjs avx2)"],
          "cflags": ["-mavx2", "-mfma", "-mf16c"],
          "xcode_settings": { "OTHER_CFLAGS": ["-O3", "-mavx2", "-mfma", "-mf16c"] },
          "msvs_settings": { "VCCLCompilerTool": { "AdditionalOptions": ["/arch:AVX2"] } }
        }
      ]
    }],
    ["target_arch=='arm64'", {
      "targets": [
        {
          # Advanced SIMD is part of baseline AArch64 (GCC and Apple Clang alike): no extra
          # flags (and no -mfpu, which only 32-bit ARM has).
          "target_name": "sepconv_isa_neon",
          "type": "static_library",
          "sources": ["<!@(node scripts/list-sources.mjs neon)"]
        }
      ]
    }]
  ]
}
