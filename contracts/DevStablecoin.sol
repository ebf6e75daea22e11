// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {ERC20} from "@openzeppelin/contracts/token/ERC20/ERC20.sol";
import {ERC20Permit} from "@openzeppelin/contracts/token/ERC20/extensions/ERC20Permit.sol";
import {Ownable} from "@openzeppelin/contracts/access/Ownable.sol";

/// @title Dev stablecoin for local chains: 6 decimals like USDC, EIP-2612 permit, minted by its owner.
contract DevStablecoin is ERC20, ERC20Permit, Ownable {
    constructor(address owner_) ERC20("OpenVPP Dev USD", "dUSD") ERC20Permit("OpenVPP Dev USD") Ownable(owner_) {}

    function decimals() public pure override returns (uint8) {
        return 6;
    }

    function mint(address to, uint256 amount) external onlyOwner {
        _mint(to, amount);
    }
}
