// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.28;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";

/// @title Benchmark baseline: one plain ERC-20 transferFrom per trade, batched in one transaction, so
/// its gas per trade compares with settlement's gas per fill without the 21,000 of a transaction.
contract BatchTransfer {
    function run(IERC20 token, address[] calldata from, address[] calldata to, uint256[] calldata amounts) external {
        for (uint256 i; i < from.length; ++i) {
            token.transferFrom(from[i], to[i], amounts[i]);
        }
    }
}
