// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.28;

import {EIP712} from "@openzeppelin/contracts/utils/cryptography/EIP712.sol";
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
/// storage slot, fills are packed calldata with EIP-2098 compact signatures, digests are built in
/// scratch memory, and per-batch scratch data lives in transient storage.
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

    /// @dev Byte layout of one fill in `settleInterval`'s `fills` (125 bytes, big-endian, packed):
    /// owner (20) ‖ side (1) ‖ energyWh (8) ‖ limitPrice (8) ‖ nonce (8) ‖ filledWh (8) ‖ price (8) ‖
    /// r (32) ‖ vs (32). The first five are the signed order (its community and interval are the
    /// batch's, so a signature for another interval or community does not recover to its owner);
    /// `filledWh` at `price` (base units per kWh, the order's own side of the price) is its fill; r ‖ vs
    /// is the owner's EIP-2098 compact signature. An order cleared at several grid nodes has one fill
    /// per node, next to each other. Packed rather than ABI-encoded: calldata is a third of a fill's gas.
    uint256 private constant FILL_BYTES = 125;
    /// @dev Byte layout of one meter reading in `readings` (100 bytes): owner (20) ‖ exportedWh (8) ‖
    /// importedWh (8) ‖ r (32) ‖ vs (32), signed by the meter signer.
    uint256 private constant READING_BYTES = 100;
    /// @dev One balance change in `IntervalSettled.balanceChanges`: owner (20) ‖ int128 change (16).
    uint256 private constant CHANGE_BYTES = 36;
    uint256 private constant BALANCE_MASK = 0xffffffffffffffffffffffffffffffff;
    /// secp256k1 n / 2: a larger s is the malleable twin of a valid signature (EIP-2).
    uint256 private constant HALF_N = 0x7FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF5D576E7357A4501DDFE92F46681B20A0;

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
    /// Every interval starts at a multiple of this many seconds (the market's interval length or a
    /// divisor of it), which lets settled intervals be one bit each.
    uint64 public immutable intervalGranularity;
    /// A requested withdrawal may be taken this many seconds later: longer than any interval that
    /// the owner may already have signed an order for can still settle.
    uint64 public immutable withdrawalDelay;

    mapping(address => Account) public accounts;
    /// Numbers the batches of one transaction, so each batch's transient delivery scratch has its own keys.
    uint256 private transient batchSeq;
    mapping(address => uint256) public pendingWithdrawal;
    /// Settled intervals, one bit each: bit (interval / intervalGranularity) % 256 of word
    /// (interval / intervalGranularity) / 256, so 256 consecutive intervals share one slot.
    mapping(bytes32 => mapping(uint256 => uint256)) private settledBits;
    bool public paused;

    event Deposited(address indexed owner, uint256 amount);
    event WithdrawalRequested(address indexed owner, uint256 amount, uint64 withdrawableAt);
    event Withdrawn(address indexed owner, uint256 amount);
    event OrdersCancelled(address indexed owner, uint64 minNonce);
    /// A seller delivered `shortfallWh` less than it sold and paid `charged` for it.
    event ImbalanceCharged(address indexed owner, uint64 shortfallWh, uint256 charged);
    /// A buyer's share of what sellers who fell short paid and were not paid.
    event ImbalanceCredited(address indexed owner, uint256 amount);
    /// @notice One interval settled. `balanceChanges` holds, for every fill in batch order, the owner
    /// (20 bytes) and the change of its balance (int128, 16 bytes: negative for what a buyer pays,
    /// positive for what a seller is paid before any imbalance charge); with `fees` to the fee
    /// recipient and the imbalance events, it lets anyone rebuild every balance. Packed in one event
    /// because a log per fill would cost a tenth of the fill.
    event IntervalSettled(
        bytes32 indexed community, uint64 indexed interval, uint256 fills, uint256 energyWh, uint256 paid, uint256 fees, bytes balanceChanges
    );
    event Paused(bool paused);

    error NotOperator();
    error NotGuardian();
    error ZeroAddress();
    error BadParameters();
    error IsPaused();
    error IntervalAlreadySettled(bytes32 community, uint64 interval);
    error SettlementWindowClosed(uint64 interval, uint256 deadline);
    error IntervalNotAligned(uint64 interval, uint64 granularity);
    error MalformedBatch();
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
        uint64 withdrawalDelay_,
        uint64 intervalGranularity_
    ) EIP712("OpenVPP", "1") {
        if (address(token_) == address(0) || operator_ == address(0) || feeRecipient_ == address(0) || guardian_ == address(0)) {
            revert ZeroAddress();
        }
        // A withdrawal must wait out every settlement that could still take from the balance.
        if (settlementWindow_ == 0 || withdrawalDelay_ <= settlementWindow_ || intervalGranularity_ == 0) revert BadParameters();
        token = token_;
        operator = operator_;
        feeRecipient = feeRecipient_;
        guardian = guardian_;
        meterSigner = meterSigner_;
        imbalancePrice = imbalancePrice_;
        settlementWindow = settlementWindow_;
        withdrawalDelay = withdrawalDelay_;
        intervalGranularity = intervalGranularity_;
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

    /// @notice Whether `interval` of `community` has been settled.
    function intervalSettled(bytes32 community, uint64 interval) external view returns (bool) {
        if (interval % intervalGranularity != 0) return false;
        uint256 index = interval / intervalGranularity;
        return settledBits[community][index >> 8] & (1 << (index & 0xff)) != 0;
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
    /// @param fills packed fills (see FILL_BYTES), grouped by order, distinct orders in strictly
    /// increasing order of their EIP-712 digest.
    /// @param readings packed meter readings (see READING_BYTES), one per seller, in strictly
    /// increasing order of owner address.
    function settleInterval(bytes32 community, uint64 interval, bytes calldata fills, bytes calldata readings)
        external
        nonReentrant
    {
        if (msg.sender != operator) revert NotOperator();
        if (paused) revert IsPaused();
        if (interval % intervalGranularity != 0) revert IntervalNotAligned(interval, intervalGranularity);
        uint256 index = interval / intervalGranularity;
        uint256 bits = settledBits[community][index >> 8];
        uint256 bit = 1 << (index & 0xff);
        if (bits & bit != 0) revert IntervalAlreadySettled(community, interval);
        uint256 deadline = uint256(interval) + settlementWindow;
        if (block.timestamp >= deadline) revert SettlementWindowClosed(interval, deadline);
        if (fills.length % FILL_BYTES != 0 || readings.length % READING_BYTES != 0) revert MalformedBatch();
        settledBits[community][index >> 8] = bits | bit;

        bytes32 domain = _domainSeparatorV4();
        uint256 scratch = ++batchSeq << 160;
        _recordReadings(domain, community, interval, readings, scratch);
        bytes memory changes = new bytes((fills.length / FILL_BYTES) * CHANGE_BYTES);
        Totals memory t = _applyFills(domain, community, interval, fills, changes, scratch);

        if (t.boughtWh != t.soldWh) revert EnergyNotConserved(t.boughtWh, t.soldWh);
        if (t.paid < t.received) revert MoneyNotConserved(t.paid, t.received);
        uint256 fees = t.paid - t.received;
        if (t.imbalancePool != 0) fees += _creditBuyers(fills, t.imbalancePool, t.boughtWh);
        if (fees != 0) accounts[feeRecipient].balance += uint128(fees);
        emit IntervalSettled(community, interval, fills.length / FILL_BYTES, t.boughtWh, t.paid, fees, changes);
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

    /// Verifies each reading and keeps its exported energy in transient storage for this batch, under
    /// the key `scratch | owner` (transient storage ends with the transaction; `scratch` keeps two
    /// batches in one transaction apart).
    function _recordReadings(bytes32 domain, bytes32 community, uint64 interval, bytes calldata readings, uint256 scratch) private {
        address signer = meterSigner;
        uint256 previous;
        uint256 count = readings.length / READING_BYTES;
        for (uint256 i; i < count; ++i) {
            uint256 p = _at(readings, i * READING_BYTES);
            uint256 owner = _word(p, 20);
            if (owner <= previous) revert ReadingsNotSorted(i);
            previous = owner;
            uint256 exportedWh = _word(p + 20, 8);
            bytes32 digest = _readingDigest(domain, owner, community, interval, exportedWh, _word(p + 28, 8));
            address expected = signer == address(0) ? address(uint160(owner)) : signer;
            if (_recover(digest, bytes32(_word(p + 36, 32)), bytes32(_word(p + 68, 32))) != expected) revert BadMeterReading(i);
            // Stored + 1, so that 0 means "no reading" and a seller without one is paid nothing.
            assembly ("memory-safe") {
                tstore(or(scratch, owner), add(exportedWh, 1))
            }
        }
    }

    function _applyFills(bytes32 domain, bytes32 community, uint64 interval, bytes calldata fills, bytes memory changes, uint256 scratch)
        private
        returns (Totals memory t)
    {
        uint256 current;
        uint256 currentFilledWh;
        uint256 count = fills.length / FILL_BYTES;
        // Unchecked: every quantity is a uint64 from calldata, so products and sums of them stay far
        // below 2^256; each subtraction is guarded by the comparison before it.
        unchecked {
            for (uint256 i; i < count; ++i) {
                uint256 p = _at(fills, i * FILL_BYTES);
                address owner = address(uint160(_word(p, 20)));
                uint256 filledWh = _word(p + 45, 8);
                uint256 price = _word(p + 53, 8);
                if (filledWh == 0) revert InvalidFillAmount(i);
                uint256 digest = uint256(_orderDigest(domain, community, interval, p));
                // The owner's Account, read once: balance in the low 128 bits, minNonce above it.
                uint256 slot = _accountSlot(owner);
                uint256 word;
                assembly ("memory-safe") {
                    word := sload(slot)
                }
                if (digest != current) {
                    // Distinct orders in increasing digest order: no order can be used twice in a batch,
                    // and its interval settles only once, so it can never be used again.
                    if (digest <= current) revert OrdersNotSorted(i);
                    if (_word(p + 37, 8) < uint64(word >> 128)) revert OrderCancelled(i);
                    if (_recover(bytes32(digest), bytes32(_word(p + 61, 32)), bytes32(_word(p + 93, 32))) != owner) revert BadSignature(i);
                    current = digest;
                    currentFilledWh = 0;
                }
                currentFilledWh += filledWh;
                if (currentFilledWh > _word(p + 21, 8)) revert InvalidFillAmount(i);

                uint256 side = _word(p + 20, 1);
                uint256 limitPrice = _word(p + 29, 8);
                uint256 escrow = word & BALANCE_MASK;
                int256 change;
                if (side == SIDE_BUY) {
                    if (price > limitPrice) revert PriceOutsideLimit(i);
                    uint256 amount = (filledWh * price + WH_PER_KWH - 1) / WH_PER_KWH; // buyer rounds up
                    if (escrow < amount) revert InsufficientEscrow(owner, amount, escrow);
                    escrow -= amount;
                    t.boughtWh += filledWh;
                    t.paid += amount;
                    change = -int256(amount);
                } else if (side == SIDE_SELL) {
                    if (price < limitPrice) revert PriceOutsideLimit(i);
                    t.soldWh += filledWh;
                    t.received += (filledWh * price) / WH_PER_KWH; // seller rounds down
                    uint256 paidToSeller;
                    uint256 toBuyers;
                    (escrow, paidToSeller, toBuyers) = _paySeller(owner, escrow, filledWh, price, scratch);
                    t.imbalancePool += toBuyers;
                    change = int256(paidToSeller);
                } else {
                    revert InvalidSide(i);
                }
                assembly ("memory-safe") {
                    sstore(slot, or(and(word, not(BALANCE_MASK)), escrow))
                    let at := add(add(changes, 0x20), mul(i, 36))
                    // Both stores stay inside this record's 36 bytes: the owner's top 4 bytes first,
                    // then its low 16 bytes and the change's low 128 bits (two's complement) at at+4.
                    mstore(at, shl(96, owner))
                    mstore(add(at, 4), or(shl(128, owner), and(change, BALANCE_MASK)))
                }
            }
        }
    }

    /// Pays a seller for the part of its fill that its meter reading covers and charges the rest at
    /// the imbalance price, as far as its balance goes. Returns its new balance, what it was paid, and
    /// what goes to the buyers for its shortfall.
    function _paySeller(address owner, uint256 escrow, uint256 filledWh, uint256 price, uint256 scratch)
        private
        returns (uint256 newBalance, uint256 amount, uint256 toBuyers)
    {
        unchecked {
            uint256 left;
            assembly ("memory-safe") {
                left := tload(or(scratch, owner))
            }
            uint256 exported = left == 0 ? 0 : left - 1;
            uint256 delivered = exported < filledWh ? exported : filledWh;
            if (left != 0) {
                assembly ("memory-safe") {
                    tstore(or(scratch, owner), add(sub(exported, delivered), 1))
                }
            }
            amount = (delivered * price) / WH_PER_KWH;
            newBalance = escrow + amount;
            if (delivered != filledWh) {
                uint256 shortfallWh = filledWh - delivered;
                uint256 charge = (shortfallWh * imbalancePrice + WH_PER_KWH - 1) / WH_PER_KWH;
                if (charge > newBalance) charge = newBalance;
                newBalance -= charge;
                emit ImbalanceCharged(owner, uint64(shortfallWh), charge);
                // What it would have been paid for the undelivered part, plus its charge.
                toBuyers = (filledWh * price) / WH_PER_KWH - amount + charge;
            }
        }
    }

    /// Shares `pool` among the buy fills in proportion to their energy; returns the rounding remainder.
    function _creditBuyers(bytes calldata fills, uint256 pool, uint256 boughtWh) private returns (uint256 remainder) {
        remainder = pool;
        uint256 count = fills.length / FILL_BYTES;
        for (uint256 i; i < count; ++i) {
            uint256 p = _at(fills, i * FILL_BYTES);
            if (_word(p + 20, 1) != SIDE_BUY) continue;
            uint256 share = (pool * _word(p + 45, 8)) / boughtWh;
            if (share == 0) continue;
            address owner = address(uint160(_word(p, 20)));
            accounts[owner].balance += uint128(share);
            remainder -= share;
            emit ImbalanceCredited(owner, share);
        }
    }

    /// The EIP-712 digest of the order in the packed fill at `p`, under this batch's community and
    /// interval; the same bytes as `hashOrder`, built in scratch memory.
    function _orderDigest(bytes32 domain, bytes32 community, uint64 interval, uint256 p) private pure returns (bytes32 digest) {
        bytes32 typehash = ORDER_TYPEHASH;
        assembly ("memory-safe") {
            let m := mload(0x40)
            mstore(m, typehash)
            mstore(add(m, 0x20), shr(96, calldataload(p))) // owner
            mstore(add(m, 0x40), community)
            mstore(add(m, 0x60), interval)
            mstore(add(m, 0x80), byte(0, calldataload(add(p, 20)))) // side
            mstore(add(m, 0xa0), shr(192, calldataload(add(p, 21)))) // energyWh
            mstore(add(m, 0xc0), shr(192, calldataload(add(p, 29)))) // limitPrice
            mstore(add(m, 0xe0), shr(192, calldataload(add(p, 37)))) // nonce
            let structHash := keccak256(m, 0x100)
            // EIP-712: keccak256("\x19\x01" ‖ domainSeparator ‖ hashStruct(message))
            mstore(m, shl(240, 0x1901))
            mstore(add(m, 0x02), domain)
            mstore(add(m, 0x22), structHash)
            digest := keccak256(m, 0x42)
        }
    }

    function _readingDigest(bytes32 domain, uint256 owner, bytes32 community, uint64 interval, uint256 exportedWh, uint256 importedWh)
        private
        pure
        returns (bytes32 digest)
    {
        bytes32 typehash = METER_READING_TYPEHASH;
        assembly ("memory-safe") {
            let m := mload(0x40)
            mstore(m, typehash)
            mstore(add(m, 0x20), owner)
            mstore(add(m, 0x40), community)
            mstore(add(m, 0x60), interval)
            mstore(add(m, 0x80), exportedWh)
            mstore(add(m, 0xa0), importedWh)
            let structHash := keccak256(m, 0xc0)
            mstore(m, shl(240, 0x1901))
            mstore(add(m, 0x02), domain)
            mstore(add(m, 0x22), structHash)
            digest := keccak256(m, 0x42)
        }
    }

    /// ecrecover of an EIP-2098 compact signature; zero for a malleable (high-s) or invalid one.
    function _recover(bytes32 digest, bytes32 r, bytes32 vs) private pure returns (address signer) {
        uint256 s = uint256(vs) & ((1 << 255) - 1);
        if (s > HALF_N) return address(0);
        signer = ecrecover(digest, uint8((uint256(vs) >> 255) + 27), r, bytes32(s));
        // ecrecover's zero for a bad signature must never match an owner field of zero.
        if (signer == address(0)) return address(1);
    }

    /// Storage slot of `accounts[owner]` (Solidity's mapping layout: keccak256(key ‖ slot)).
    function _accountSlot(address owner) private pure returns (uint256 slot) {
        assembly ("memory-safe") {
            mstore(0x00, owner)
            mstore(0x20, accounts.slot)
            slot := keccak256(0x00, 0x40)
        }
    }

    /// Calldata position of byte `offset` of `data`.
    function _at(bytes calldata data, uint256 offset) private pure returns (uint256 p) {
        assembly ("memory-safe") {
            p := add(data.offset, offset)
        }
    }

    /// The big-endian unsigned integer of `size` bytes at calldata position `p`.
    function _word(uint256 p, uint256 size) private pure returns (uint256 value) {
        assembly ("memory-safe") {
            value := shr(sub(256, mul(size, 8)), calldataload(p))
        }
    }

    function _deposit(address owner, uint256 amount) private {
        if (paused) revert IsPaused();
        if (amount > type(uint128).max - accounts[owner].balance) revert AmountTooLarge();
        token.safeTransferFrom(owner, address(this), amount);
        accounts[owner].balance += uint128(amount);
        emit Deposited(owner, amount);
    }
}
