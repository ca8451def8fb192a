#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| jiuzhu_fuzz::csv_text(data));
