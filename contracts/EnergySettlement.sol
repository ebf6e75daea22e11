// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {EIP712} from "@openzeppelin/contracts/utils/cryptography/EIP712.sol";
import {ECDSA} from "@openzeppelin/contracts/utils/cryptography/ECDSA.sol";
import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {IERC20Permit} from "@openzeppelin/contracts/token/ERC20/extensions/IERC20Permit.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {ReentrancyGuard} from "@openzeppelin/contracts/utils/ReentrancyGuard.sol";

/// @title OpenVPP energy settlement
/// @notice Escrow in one stablecoin and batch settlement of peer-to-peer energy trades. Every fill is
/// checked against an EIP-712 order its owner signed, so the operator can leave an order out but can
/// never trade anyone beyond what they signed.
contract EnergySettlement is EIP712, ReentrancyGuard {
    using SafeERC20 for IERC20;

    bytes32 public constant ORDER_TYPEHASH = keccak256(
        "Order(address owner,bytes32 community,uint64 interval,uint8 side,uint64 energyWh,uint64 limitPrice,uint64 nonce)"
    );
    uint8 public constant SIDE_BUY = 0;
    uint8 public constant SIDE_SELL = 1;
    /// Prices are per kWh, energy is in Wh.
    uint256 private constant WH_PER_KWH = 1000;

    struct Order {
        address owner;
        bytes32 community;
        uint64 interval;
        uint8 side;
        uint64 energyWh;
        uint64 limitPrice;
        uint64 nonce;
    }

    /// One fill of an order in a batch: `filledWh` at `price` (stablecoin base units per kWh). An order
    /// cleared at several grid nodes has one fill per node, consecutive in the batch.
    struct Fill {
        Order order;
        bytes signature;
        uint64 filledWh;
        uint64 price;
    }

    IERC20 public immutable token;
    address public immutable operator;
    address public immutable feeRecipient;

    mapping(address => uint256) public balanceOf;
    mapping(bytes32 => bool) public orderUsed;
    mapping(bytes32 => mapping(uint64 => bool)) public intervalSettled;

    event Deposited(address indexed owner, uint256 amount);
    event Withdrawn(address indexed owner, uint256 amount);
    event Filled(
        bytes32 indexed orderHash,
        address indexed owner,
        uint64 indexed interval,
        uint8 side,
        uint64 filledWh,
        uint64 price,
        uint256 amount
    );
    event IntervalSettled(bytes32 indexed community, uint64 indexed interval, uint256 fills, uint256 energyWh, uint256 paid, uint256 fees);

    error NotOperator();
    error ZeroAddress();
    error IntervalAlreadySettled(bytes32 community, uint64 interval);
    error WrongCommunityOrInterval(uint256 fill);
    error InvalidFillAmount(uint256 fill);
    error InvalidSide(uint256 fill);
    error OrderAlreadyUsed(bytes32 orderHash);
    error BadSignature(uint256 fill);
    error PriceOutsideLimit(uint256 fill);
    error InsufficientEscrow(address owner, uint256 needed, uint256 available);
    error EnergyNotConserved(uint256 boughtWh, uint256 soldWh);
    error MoneyNotConserved(uint256 paid, uint256 received);

    constructor(IERC20 token_, address operator_, address feeRecipient_) EIP712("OpenVPP", "1") {
        if (address(token_) == address(0) || operator_ == address(0) || feeRecipient_ == address(0)) revert ZeroAddress();
        token = token_;
        operator = operator_;
        feeRecipient = feeRecipient_;
    }

    /// @notice Moves `amount` of the stablecoin from the caller into its escrow balance.
    function deposit(uint256 amount) external nonReentrant {
        _deposit(msg.sender, amount);
    }

    /// @notice Deposit with an EIP-2612 permit, so no separate approve transaction is needed.
    function depositWithPermit(uint256 amount, uint256 deadline, uint8 v, bytes32 r, bytes32 s) external nonReentrant {
        IERC20Permit(address(token)).permit(msg.sender, address(this), amount, deadline, v, r, s);
        _deposit(msg.sender, amount);
    }

    /// @notice Returns `amount` of the caller's escrow balance to its wallet.
    function withdraw(uint256 amount) external nonReentrant {
        uint256 available = balanceOf[msg.sender];
        if (available < amount) revert InsufficientEscrow(msg.sender, amount, available);
        balanceOf[msg.sender] = available - amount;
        emit Withdrawn(msg.sender, amount);
        token.safeTransfer(msg.sender, amount);
    }

    /// @notice The EIP-712 digest an order's owner signs.
    function hashOrder(Order calldata o) public view returns (bytes32) {
        return _hashTypedDataV4(
            keccak256(abi.encode(ORDER_TYPEHASH, o.owner, o.community, o.interval, o.side, o.energyWh, o.limitPrice, o.nonce))
        );
    }

    /// @notice Settles one market interval of one community: every fill is checked against its signed
    /// order, buyers' escrow pays sellers' escrow, and the remainder (grid fees and rounding) goes to
    /// the fee recipient. An interval settles once.
    function settleInterval(bytes32 community, uint64 interval, Fill[] calldata fills) external nonReentrant {
        if (msg.sender != operator) revert NotOperator();
        if (intervalSettled[community][interval]) revert IntervalAlreadySettled(community, interval);
        intervalSettled[community][interval] = true;

        uint256 boughtWh;
        uint256 soldWh;
        uint256 paid;
        uint256 received;
        // An order may clear at several nodes of the grid at different prices: its fills then stand
        // next to each other, its signature is checked once, and together they stay within its energy.
        bytes32 current;
        uint256 currentFilledWh;
        for (uint256 i; i < fills.length; ++i) {
            Fill calldata f = fills[i];
            Order calldata o = f.order;
            if (o.community != community || o.interval != interval) revert WrongCommunityOrInterval(i);
            if (f.filledWh == 0) revert InvalidFillAmount(i);
            bytes32 digest = hashOrder(o);
            if (i == 0 || digest != current) {
                if (orderUsed[digest]) revert OrderAlreadyUsed(digest);
                orderUsed[digest] = true;
                // OpenZeppelin's ECDSA.recover refuses high-s and malformed signatures (EIP-2).
                if (ECDSA.recover(digest, f.signature) != o.owner) revert BadSignature(i);
                current = digest;
                currentFilledWh = 0;
            }
            currentFilledWh += f.filledWh;
            if (currentFilledWh > o.energyWh) revert InvalidFillAmount(i);

            uint256 value = uint256(f.filledWh) * f.price;
            uint256 amount;
            if (o.side == SIDE_BUY) {
                if (f.price > o.limitPrice) revert PriceOutsideLimit(i);
                amount = (value + WH_PER_KWH - 1) / WH_PER_KWH; // buyer rounds up
                uint256 available = balanceOf[o.owner];
                if (available < amount) revert InsufficientEscrow(o.owner, amount, available);
                balanceOf[o.owner] = available - amount;
                boughtWh += f.filledWh;
                paid += amount;
            } else if (o.side == SIDE_SELL) {
                if (f.price < o.limitPrice) revert PriceOutsideLimit(i);
                amount = value / WH_PER_KWH; // seller rounds down
                balanceOf[o.owner] += amount;
                soldWh += f.filledWh;
                received += amount;
            } else {
                revert InvalidSide(i);
            }
            emit Filled(digest, o.owner, interval, o.side, f.filledWh, f.price, amount);
        }
        if (boughtWh != soldWh) revert EnergyNotConserved(boughtWh, soldWh);
        if (paid < received) revert MoneyNotConserved(paid, received);
        uint256 fees = paid - received;
        if (fees != 0) balanceOf[feeRecipient] += fees;
        emit IntervalSettled(community, interval, fills.length, boughtWh, paid, fees);
    }

    function _deposit(address owner, uint256 amount) private {
        token.safeTransferFrom(owner, address(this), amount);
        balanceOf[owner] += amount;
        emit Deposited(owner, amount);
    }
}
