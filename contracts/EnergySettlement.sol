// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.28;

import {EIP712} from "@openzeppelin/contracts/utils/cryptography/EIP712.sol";
import {ECDSA} from "@openzeppelin/contracts/utils/cryptography/ECDSA.sol";
import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {IERC20Permit} from "@openzeppelin/contracts/token/ERC20/extensions/IERC20Permit.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {ReentrancyGuardTransient} from "@openzeppelin/contracts/utils/ReentrancyGuardTransient.sol";

/// @title OpenVPP energy settlement
/// @notice Escrow in one stablecoin and batch settlement of peer-to-peer energy trades. Every fill is
/// checked against an EIP-712 order its owner signed, and every seller is paid only for the energy a
/// signed meter reading shows it exported, so the operator can leave an order out but can never trade
/// anyone beyond what they signed. Nothing here can be upgraded or re-pointed after deployment.
/// @dev Gas per fill is what the design optimises: no storage is written per order (an order names its
/// interval, and an interval settles once, so an order cannot be replayed), each account is one
/// storage slot, signatures are EIP-2098 compact, and per-batch scratch data lives in transient storage.
contract EnergySettlement is EIP712, ReentrancyGuardTransient {
    using SafeERC20 for IERC20;

    bytes32 public constant ORDER_TYPEHASH = keccak256(
        "Order(address owner,bytes32 community,uint64 interval,uint8 side,uint64 energyWh,uint64 limitPrice,uint64 nonce)"
    );
    bytes32 public constant METER_READING_TYPEHASH =
        keccak256("MeterReading(address owner,bytes32 community,uint64 interval,uint64 exportedWh,uint64 importedWh)");
    uint8 public constant SIDE_BUY = 0;
    uint8 public constant SIDE_SELL = 1;
    /// Prices are per kWh, energy is in Wh.
    uint256 private constant WH_PER_KWH = 1000;

    /// @notice One fill of a signed order: `filledWh` at `price` (stablecoin base units per kWh, the
    /// order's own side of the price). The order's community and interval are the batch's, so a
    /// signature for any other interval or community does not recover to its owner. An order cleared
    /// at several grid nodes has one fill per node, next to each other in the batch.
    struct Fill {
        address owner;
        uint8 side;
        uint64 energyWh;
        uint64 limitPrice;
        uint64 nonce;
        uint64 filledWh;
        uint64 price;
        bytes32 r;
        bytes32 vs; // EIP-2098 compact signature: r ‖ (yParity << 255 | s)
    }

    /// @notice A signed meter reading of one seller for the batch's interval: the energy its grid
    /// connection exported and imported during the interval.
    struct Reading {
        address owner;
        uint64 exportedWh;
        uint64 importedWh;
        bytes32 r;
        bytes32 vs;
    }

    /// One storage slot per participant.
    struct Account {
        uint128 balance;
        /// Orders with a lower nonce are cancelled.
        uint64 minNonce;
        /// When a requested withdrawal may be taken (0: none requested).
        uint64 withdrawableAt;
    }

    IERC20 public immutable token;
    /// The only address that may submit settlement batches.
    address public immutable operator;
    /// Receives every grid fee and rounding remainder; fixed at deployment.
    address public immutable feeRecipient;
    /// May pause settlement and deposits in an emergency; never withdrawals.
    address public immutable guardian;
    /// Who signs meter readings: a utility meter's data hub in a real deployment, or, when zero, each
    /// participant's own agent key.
    address public immutable meterSigner;
    /// What a seller pays per kWh it sold but did not deliver, credited to the interval's buyers.
    uint64 public immutable imbalancePrice;
    /// An interval may be settled only until this many seconds after it starts.
    uint64 public immutable settlementWindow;
    /// A requested withdrawal may be taken this many seconds later: longer than any interval that
    /// the owner may already have signed an order for can still settle.
    uint64 public immutable withdrawalDelay;

    mapping(address => Account) public accounts;
    mapping(address => uint256) public pendingWithdrawal;
    mapping(bytes32 => mapping(uint64 => bool)) public intervalSettled;
    bool public paused;

    event Deposited(address indexed owner, uint256 amount);
    event WithdrawalRequested(address indexed owner, uint256 amount, uint64 withdrawableAt);
    event Withdrawn(address indexed owner, uint256 amount);
    event OrdersCancelled(address indexed owner, uint64 minNonce);
    /// `amount` is the change of the owner's balance: negative for what a buyer pays.
    event Filled(address indexed owner, bytes32 orderHash, int256 amount);
    /// A seller delivered `shortfallWh` less than it sold and paid `charged` for it.
    event ImbalanceCharged(address indexed owner, uint64 shortfallWh, uint256 charged);
    /// A buyer's share of what sellers who fell short paid and were not paid.
    event ImbalanceCredited(address indexed owner, uint256 amount);
    event IntervalSettled(bytes32 indexed community, uint64 indexed interval, uint256 fills, uint256 energyWh, uint256 paid, uint256 fees);
    event Paused(bool paused);

    error NotOperator();
    error NotGuardian();
    error ZeroAddress();
    error BadParameters();
    error IsPaused();
    error IntervalAlreadySettled(bytes32 community, uint64 interval);
    error SettlementWindowClosed(uint64 interval, uint256 deadline);
    error InvalidFillAmount(uint256 fill);
    error InvalidSide(uint256 fill);
    error OrdersNotSorted(uint256 fill);
    error OrderCancelled(uint256 fill);
    error BadSignature(uint256 fill);
    error BadMeterReading(uint256 reading);
    error ReadingsNotSorted(uint256 reading);
    error PriceOutsideLimit(uint256 fill);
    error InsufficientEscrow(address owner, uint256 needed, uint256 available);
    error EnergyNotConserved(uint256 boughtWh, uint256 soldWh);
    error MoneyNotConserved(uint256 paid, uint256 received);
    error NonceNotIncreasing(uint64 current, uint64 requested);
    error WithdrawalNotReady(uint256 withdrawableAt);
    error NothingToWithdraw();
    error AmountTooLarge();

    constructor(
        IERC20 token_,
        address operator_,
        address feeRecipient_,
        address guardian_,
        address meterSigner_,
        uint64 imbalancePrice_,
        uint64 settlementWindow_,
        uint64 withdrawalDelay_
    ) EIP712("OpenVPP", "1") {
        if (address(token_) == address(0) || operator_ == address(0) || feeRecipient_ == address(0) || guardian_ == address(0)) {
            revert ZeroAddress();
        }
        // A withdrawal must wait out every settlement that could still take from the balance.
        if (settlementWindow_ == 0 || withdrawalDelay_ <= settlementWindow_) revert BadParameters();
        token = token_;
        operator = operator_;
        feeRecipient = feeRecipient_;
        guardian = guardian_;
        meterSigner = meterSigner_;
        imbalancePrice = imbalancePrice_;
        settlementWindow = settlementWindow_;
        withdrawalDelay = withdrawalDelay_;
    }

    // ───────────────────────────── escrow ─────────────────────────────

    /// @notice The escrow balance of `owner`, in token base units.
    function balanceOf(address owner) external view returns (uint256) {
        return accounts[owner].balance;
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

    /// @notice Announces a withdrawal of `amount`, to be taken with `withdraw` after `withdrawalDelay`.
    /// Until then the balance still settles the intervals the caller traded in. Works while paused.
    function requestWithdrawal(uint256 amount) external {
        if (amount == 0) revert NothingToWithdraw();
        uint64 at = uint64(block.timestamp) + withdrawalDelay;
        accounts[msg.sender].withdrawableAt = at;
        pendingWithdrawal[msg.sender] = amount;
        emit WithdrawalRequested(msg.sender, amount, at);
    }

    /// @notice Takes the requested withdrawal (or the whole balance, if that is less) once its delay
    /// has passed. Never blocked by a pause.
    function withdraw() external nonReentrant {
        Account storage account = accounts[msg.sender];
        uint256 at = account.withdrawableAt;
        if (at == 0) revert NothingToWithdraw();
        if (block.timestamp < at) revert WithdrawalNotReady(at);
        uint256 amount = pendingWithdrawal[msg.sender];
        if (amount > account.balance) amount = account.balance;
        account.balance -= uint128(amount);
        account.withdrawableAt = 0;
        pendingWithdrawal[msg.sender] = 0;
        emit Withdrawn(msg.sender, amount);
        token.safeTransfer(msg.sender, amount);
    }

    /// @notice Cancels every order of the caller with a nonce below `minNonce`, in one call.
    function cancelUpTo(uint64 minNonce) external {
        Account storage account = accounts[msg.sender];
        if (minNonce <= account.minNonce) revert NonceNotIncreasing(account.minNonce, minNonce);
        account.minNonce = minNonce;
        emit OrdersCancelled(msg.sender, minNonce);
    }

    /// @notice Stops settlement and deposits (true) or resumes them (false). Withdrawals go on.
    function setPaused(bool paused_) external {
        if (msg.sender != guardian) revert NotGuardian();
        paused = paused_;
        emit Paused(paused_);
    }

    // ──────────────────────────── signatures ────────────────────────────

    /// @notice The EIP-712 digest an order's owner signs.
    function hashOrder(
        address owner,
        bytes32 community,
        uint64 interval,
        uint8 side,
        uint64 energyWh,
        uint64 limitPrice,
        uint64 nonce
    ) public view returns (bytes32) {
        return _hashTypedDataV4(keccak256(abi.encode(ORDER_TYPEHASH, owner, community, interval, side, energyWh, limitPrice, nonce)));
    }

    /// @notice The EIP-712 digest a meter reading's signer signs.
    function hashMeterReading(address owner, bytes32 community, uint64 interval, uint64 exportedWh, uint64 importedWh)
        public
        view
        returns (bytes32)
    {
        return _hashTypedDataV4(keccak256(abi.encode(METER_READING_TYPEHASH, owner, community, interval, exportedWh, importedWh)));
    }

    // ──────────────────────────── settlement ────────────────────────────

    /// @notice Settles one market interval of one community. Every fill is checked against its
    /// signed order; buyers' escrow pays sellers' escrow for what their signed meter readings show they
    /// delivered; a seller's shortfall is charged at `imbalancePrice` and, with what it was not paid,
    /// credited to the interval's buyers in proportion to their energy; grid fees and rounding go to
    /// the fee recipient. An interval settles once.
    /// @param fills grouped by order; distinct orders in strictly increasing order of their digest.
    /// @param readings one per seller, in strictly increasing order of owner address.
    function settleInterval(bytes32 community, uint64 interval, Fill[] calldata fills, Reading[] calldata readings)
        external
        nonReentrant
    {
        if (msg.sender != operator) revert NotOperator();
        if (paused) revert IsPaused();
        if (intervalSettled[community][interval]) revert IntervalAlreadySettled(community, interval);
        uint256 deadline = uint256(interval) + settlementWindow;
        if (block.timestamp >= deadline) revert SettlementWindowClosed(interval, deadline);
        intervalSettled[community][interval] = true;

        _recordReadings(community, interval, readings);
        Totals memory t = _applyFills(community, interval, fills);

        if (t.boughtWh != t.soldWh) revert EnergyNotConserved(t.boughtWh, t.soldWh);
        if (t.paid < t.received) revert MoneyNotConserved(t.paid, t.received);
        uint256 fees = t.paid - t.received;
        if (t.imbalancePool != 0) fees += _creditBuyers(fills, t.imbalancePool, t.boughtWh);
        if (fees != 0) accounts[feeRecipient].balance += uint128(fees);
        emit IntervalSettled(community, interval, fills.length, t.boughtWh, t.paid, fees);
    }

    struct Totals {
        uint256 boughtWh;
        uint256 soldWh;
        uint256 paid;
        /// What sellers were due for the energy they sold, delivered or not.
        uint256 received;
        /// Imbalance charges collected plus what sellers were not paid for undelivered energy.
        uint256 imbalancePool;
    }

    /// Verifies each reading and keeps its exported energy in transient storage for this batch.
    function _recordReadings(bytes32 community, uint64 interval, Reading[] calldata readings) private {
        address previous;
        for (uint256 i; i < readings.length; ++i) {
            Reading calldata reading = readings[i];
            if (reading.owner <= previous) revert ReadingsNotSorted(i);
            previous = reading.owner;
            bytes32 digest = hashMeterReading(reading.owner, community, interval, reading.exportedWh, reading.importedWh);
            address signer = meterSigner == address(0) ? reading.owner : meterSigner;
            (address recovered, ECDSA.RecoverError err,) = ECDSA.tryRecover(digest, reading.r, reading.vs);
            if (err != ECDSA.RecoverError.NoError || recovered != signer) revert BadMeterReading(i);
            // Stored + 1, so that 0 means "no reading" and a seller without one is paid nothing.
            _tstore(_deliveryKey(reading.owner, community, interval), uint256(reading.exportedWh) + 1);
        }
    }

    function _applyFills(bytes32 community, uint64 interval, Fill[] calldata fills) private returns (Totals memory t) {
        bytes32 current;
        uint256 currentFilledWh;
        for (uint256 i; i < fills.length; ++i) {
            Fill calldata f = fills[i];
            if (f.filledWh == 0) revert InvalidFillAmount(i);
            bytes32 digest = hashOrder(f.owner, community, interval, f.side, f.energyWh, f.limitPrice, f.nonce);
            Account storage account = accounts[f.owner];
            if (digest != current) {
                // Distinct orders in increasing digest order: no order can be used twice in a batch,
                // and its interval settles only once, so it can never be used again.
                if (uint256(digest) <= uint256(current)) revert OrdersNotSorted(i);
                if (f.nonce < account.minNonce) revert OrderCancelled(i);
                // OpenZeppelin's ECDSA refuses high-s and malformed signatures (EIP-2).
                (address signer, ECDSA.RecoverError err,) = ECDSA.tryRecover(digest, f.r, f.vs);
                if (err != ECDSA.RecoverError.NoError || signer != f.owner) revert BadSignature(i);
                current = digest;
                currentFilledWh = 0;
            }
            currentFilledWh += f.filledWh;
            if (currentFilledWh > f.energyWh) revert InvalidFillAmount(i);

            uint256 value = uint256(f.filledWh) * f.price;
            if (f.side == SIDE_BUY) {
                if (f.price > f.limitPrice) revert PriceOutsideLimit(i);
                uint256 amount = (value + WH_PER_KWH - 1) / WH_PER_KWH; // buyer rounds up
                uint256 available = account.balance;
                if (available < amount) revert InsufficientEscrow(f.owner, amount, available);
                account.balance = uint128(available - amount);
                t.boughtWh += f.filledWh;
                t.paid += amount;
                emit Filled(f.owner, digest, -int256(amount));
            } else if (f.side == SIDE_SELL) {
                if (f.price < f.limitPrice) revert PriceOutsideLimit(i);
                t.soldWh += f.filledWh;
                t.received += value / WH_PER_KWH; // seller rounds down
                t.imbalancePool += _paySeller(f, account, digest, community, interval, value);
            } else {
                revert InvalidSide(i);
            }
        }
    }

    /// Pays a seller for the part of its fill that its meter reading covers, charges the rest at the
    /// imbalance price (as far as its balance goes), and returns what goes to the buyers for it.
    function _paySeller(Fill calldata f, Account storage account, bytes32 digest, bytes32 community, uint64 interval, uint256 value)
        private
        returns (uint256 toBuyers)
    {
        bytes32 key = _deliveryKey(f.owner, community, interval);
        uint256 left = _tload(key);
        uint256 exported = left == 0 ? 0 : left - 1;
        uint256 delivered = exported < f.filledWh ? exported : f.filledWh;
        if (left != 0) _tstore(key, exported - delivered + 1);
        uint256 amount = (delivered * f.price) / WH_PER_KWH;
        uint256 balance = account.balance + amount;
        emit Filled(f.owner, digest, int256(amount));
        if (delivered == f.filledWh) {
            account.balance = uint128(balance);
            return 0;
        }
        uint256 shortfallWh = f.filledWh - delivered;
        uint256 charge = (shortfallWh * imbalancePrice + WH_PER_KWH - 1) / WH_PER_KWH;
        if (charge > balance) charge = balance;
        account.balance = uint128(balance - charge);
        emit ImbalanceCharged(f.owner, uint64(shortfallWh), charge);
        // What it would have been paid for the undelivered part, plus its charge.
        return value / WH_PER_KWH - amount + charge;
    }

    /// Shares `pool` among the buy fills in proportion to their energy; returns the rounding remainder.
    function _creditBuyers(Fill[] calldata fills, uint256 pool, uint256 boughtWh) private returns (uint256 remainder) {
        remainder = pool;
        for (uint256 i; i < fills.length; ++i) {
            Fill calldata f = fills[i];
            if (f.side != SIDE_BUY) continue;
            uint256 share = (pool * f.filledWh) / boughtWh;
            if (share == 0) continue;
            accounts[f.owner].balance += uint128(share);
            remainder -= share;
            emit ImbalanceCredited(f.owner, share);
        }
    }

    function _deposit(address owner, uint256 amount) private {
        if (paused) revert IsPaused();
        if (amount > type(uint128).max - accounts[owner].balance) revert AmountTooLarge();
        token.safeTransferFrom(owner, address(this), amount);
        accounts[owner].balance += uint128(amount);
        emit Deposited(owner, amount);
    }

    function _deliveryKey(address owner, bytes32 community, uint64 interval) private pure returns (bytes32) {
        return keccak256(abi.encode(owner, community, interval));
    }

    function _tstore(bytes32 key, uint256 value) private {
        assembly ("memory-safe") {
            tstore(key, value)
        }
    }

    function _tload(bytes32 key) private view returns (uint256 value) {
        assembly ("memory-safe") {
            value := tload(key)
        }
    }
}
