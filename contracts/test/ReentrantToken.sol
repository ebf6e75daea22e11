// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.28;

import {ERC20} from "@openzeppelin/contracts/token/ERC20/ERC20.sol";

/// @title Test token that calls back into a target during a transfer, to prove the target refuses
/// reentrant calls. Never deployed outside tests.
contract ReentrantToken is ERC20 {
    address public target;
    bytes public attack;

    constructor() ERC20("Reentrant", "RE") {}

    function mint(address to, uint256 amount) external {
        _mint(to, amount);
    }

    /// Arms the hook: the next transfer out of `target_` calls `target_` with `attack_`.
    function arm(address target_, bytes calldata attack_) external {
        target = target_;
        attack = attack_;
    }

    function _update(address from, address to, uint256 value) internal override {
        super._update(from, to, value);
        if (target != address(0) && from == target) {
            address t = target;
            target = address(0);
            (bool ok, bytes memory reason) = t.call(attack);
            if (!ok) {
                assembly ("memory-safe") {
                    revert(add(reason, 0x20), mload(reason))
                }
            }
        }
    }
}
