// Imported first by tests of the emulated device's out-of-memory paths: a 16 MiB device.
process.env.SEPCONV_EMU_MEMORY = String(16 << 20);
