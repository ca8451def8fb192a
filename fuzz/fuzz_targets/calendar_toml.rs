#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| jiuzhu_fuzz::calendar_toml(data));
