// Lists as people type them in options ("pipe,mq", "0,64K,1M,8M") and byte sizes as tables label
// them ("64 KiB").
#pragma once

#include <cstddef>
#include <initializer_list>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace proclab {

// The whole of `text` as a number: digits only (an optional '-' for whole_number), nothing before
// or after. None for an empty text, anything else, an integer out of range, or a real that is not
// finite. The one way the project reads a number a person or another proclab program wrote.
std::optional<long long> whole_number(std::string_view text);
std::optional<double> real_number(std::string_view text);

// The items between commas, empty ones included ("a,,b" -> a, "", b; "" -> one empty item).
std::vector<std::string_view> split_list(std::string_view text);

// A comma-separated list of names, each one of `allowed` ("lateness,wakeup"): in the order given,
// without repeats. Throws UsageError ("--experiments naps: 'naps' is not one of a, b, c") otherwise.
std::vector<std::string> parse_choice_list(std::string_view option, std::string_view text,
                                           std::initializer_list<std::string_view> allowed);

// A comma-separated list of sizes: bytes, or K, M, G for KiB, MiB, GiB. Sorted, without repeats.
// nullopt on anything else, an empty item, or a size outside [min_bytes, max_bytes].
std::optional<std::vector<std::size_t>> parse_byte_list(std::string_view text, std::size_t min_bytes,
                                                        std::size_t max_bytes);

// "0 B", "1000 B", "4 KiB", "3 MiB", "1 GiB": exact, for labels (not rounded like format_value's "bytes").
std::string byte_label(std::size_t bytes);
// The same without the space ("4KiB"), for metric ids.
std::string byte_id(std::size_t bytes);

}  // namespace proclab
